export type { DigestAlgorithm } from "./digest.ts";
export { digest, sha256, sha384, sha512 } from "./digest.ts";
export { p256FromRaw, p256FromSpki, p256ToRaw, spkiOf, verifyP256, verifyP256Der } from "./p256.ts";
export { secretEqual } from "./secret-equal.ts";
export { rsaFromSpki } from "./spki.ts";
