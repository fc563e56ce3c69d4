/** Error codes of CBOR decoding. */
export const cborCodes = {
  ERR_CBOR_INVALID:
    "A CBOR item is malformed or outside the accepted subset (indefinite lengths, floats, duplicate keys).",
} as const;
