/**
 * Signature checks of X.509 objects, with an allow-list of algorithms: never "whatever the
 * certificate names".
 *
 * @module
 */
import { type KeyObject, verify } from "node:crypto";
import { keyKind } from "../crypto/key-details.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { OID_SIG } from "./oids.ts";

interface Algorithm {
  readonly hash: "sha256" | "sha384" | null;
  readonly keyType: "ec" | "rsa" | "ed25519";
}

const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  [OID_SIG.ECDSA_SHA256]: { hash: "sha256", keyType: "ec" },
  [OID_SIG.ECDSA_SHA384]: { hash: "sha384", keyType: "ec" },
  [OID_SIG.RSA_SHA256]: { hash: "sha256", keyType: "rsa" },
  [OID_SIG.RSA_SHA384]: { hash: "sha384", keyType: "rsa" },
  [OID_SIG.ED25519]: { hash: null, keyType: "ed25519" },
};

const EC_CURVES = new Set(["ec:prime256v1", "ec:secp384r1"]);

/**
 * True when `signature` by `key` over `signed` is valid under the allow-listed algorithm `oid`.
 * `knownKind` is the key's kind when the caller read it from the SPKI (Certificate.publicKeyKind),
 * which saves asking OpenSSL.
 * @throws ERR_X509_ALGORITHM_UNSUPPORTED for an algorithm or key type outside the allow-list
 */
export function verifySignedBytes(
  oid: string,
  key: KeyObject,
  signed: Uint8Array,
  signature: Uint8Array,
  knownKind?: string,
): boolean {
  const alg = ALGORITHMS[oid];
  if (alg === undefined) {
    throw new KeywardError(
      "ERR_X509_ALGORITHM_UNSUPPORTED",
      `X.509: signature algorithm ${oid} is not allowed`,
    );
  }
  const kind = knownKind ?? keyKind(key);
  const type = kind.split(":")[0];
  const keyOk =
    alg.keyType === "ec"
      ? EC_CURVES.has(kind)
      : alg.keyType === "rsa"
        ? type === "rsa" && Number(kind.split(":")[1]) >= 2048
        : kind === "ed25519";
  if (!keyOk) {
    throw new KeywardError(
      "ERR_X509_ALGORITHM_UNSUPPORTED",
      `X.509: ${type ?? "unknown"} key cannot verify ${oid}`,
    );
  }
  try {
    return verify(alg.hash, signed, key, signature);
  } catch {
    // OpenSSL throws on some malformed signature encodings; to a verifier that is "invalid".
    return false;
  }
}
