/** A trusted file of the example: changing it changes MRENCLAVE. */
export const GREETING = "hello from a simulated enclave";
