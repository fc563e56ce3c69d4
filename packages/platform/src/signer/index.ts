export type { EncryptionKey } from "./jwe.ts";
export { decryptWithAttestedKey, encryptToAttestedKey } from "./jwe.ts";
export type { GeneratedKey, KeygenOptions, SigningKey } from "./key.ts";
export { generateAttestedKey, keyIdHex, unsealSigningKey } from "./key.ts";
export { keyDirFiles, readSealedKey, writeKeyDir } from "./key-dir.ts";
export { signData } from "./sign.ts";
