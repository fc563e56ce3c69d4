export { sigstructFromSgxMetadata } from "./sgx-metadata.ts";
export type { Sigstruct } from "./sigstruct.ts";
export { parseSigstruct, verifySigstruct } from "./sigstruct.ts";
