/** Codes shared by every area: bytes, keys, input and usage. */
export const generalCodes = {
  ERR_BYTES_TRUNCATED: "The input ended before the structure did: the evidence is corrupt or cut short.",
  ERR_BYTES_TRAILING: "Bytes follow a complete structure; evidence must be exactly one structure.",
  ERR_BYTES_LIMIT: "A length or count field exceeds its ceiling; nothing was allocated.",
  ERR_ENCODING_INVALID: "Text, hex, base64 or PEM input is not well formed.",
  ERR_KEY_INVALID: "A public or private key is malformed, of the wrong type, or not on the expected curve.",
  ERR_INPUT_INVALID: "An argument or input document is missing, of the wrong type or out of range.",
  ERR_IO: "A file or device could not be read or written.",
  ERR_USAGE: "The command line is not valid for this command.",
  ERR_INTERNAL: "An unexpected internal failure; please report it with the command that caused it.",
} as const;
