export type { DigestAlgorithm } from "./digest.ts";
export { digest, sha256, sha384, sha512 } from "./digest.ts";
export { p256FromRaw, p256ToRaw, verifyP256 } from "./p256.ts";
export { secretEqual } from "./secret-equal.ts";
