/**
 * Trusting an attestation key (reference/tpm.md §8): either pinned by its Name, or bound to an EK
 * whose certificate chains to a manufacturer root, by credential activation — the verifier runs
 * MakeCredential(EK, secret, Name(AK)) and only the TPM holding that EK and an object with exactly
 * that Name recovers the secret (ActivateCredential). The AK's attributes are checked first:
 * ActivateCredential succeeds for an unrestricted key too.
 *
 * @module
 */

import { secretEqual } from "../../crypto/secret-equal.ts";
import { type Credential, type CredentialKey, makeCredential } from "../../crypto/tpm-credential.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { hasAkAttributes, TPM_ECC } from "./constants.ts";
import type { TrustedEk } from "./ek-certificate.ts";
import { parseTpm2bPublic, type TpmPublic } from "./public-area.ts";

/** An outstanding AK challenge: send `credential` to the TPM's owner, keep the rest. */
export interface AkChallenge {
  readonly ak: TpmPublic;
  readonly credential: Credential;
  readonly secret: Uint8Array;
}

/**
 * The MakeCredential parameters of an EK: from its certificate, by the TCG EK Credential Profile's
 * default templates (RSA-2048 and ECC P-256: SHA-256, AES-128 — templates L-1/L-2; ECC P-384 and
 * RSA-3072: SHA-384, AES-256 — the high-range templates); or from its public area as the TPM gave it.
 * @throws ERR_TPM_EK_UNTRUSTED for a key no template describes
 */
export function credentialKeyOf(ek: TrustedEk | TpmPublic): CredentialKey {
  if ("tpmt" in ek) {
    const nameAlg = ek.nameAlg === 0x000c ? "sha384" : ek.nameAlg === 0x000d ? "sha512" : "sha256";
    const coordinateSize = ek.curve === TPM_ECC.NIST_P384 ? 48 : ek.curve === TPM_ECC.NIST_P521 ? 66 : 32;
    return {
      type: ek.type,
      key: ek.key,
      nameAlg,
      symmetricBits: ek.symmetric.keyBits ?? 128,
      coordinateSize,
    };
  }
  const d = ek.key.asymmetricKeyDetails;
  if (ek.type === "rsa" && d?.modulusLength === 2048)
    return { type: "rsa", key: ek.key, nameAlg: "sha256", symmetricBits: 128 };
  if (ek.type === "rsa" && d?.modulusLength === 3072)
    return { type: "rsa", key: ek.key, nameAlg: "sha384", symmetricBits: 256 };
  if (ek.type === "ecc" && d?.namedCurve === "prime256v1")
    return { type: "ecc", key: ek.key, nameAlg: "sha256", symmetricBits: 128, coordinateSize: 32 };
  if (ek.type === "ecc" && d?.namedCurve === "secp384r1")
    return { type: "ecc", key: ek.key, nameAlg: "sha384", symmetricBits: 256, coordinateSize: 48 };
  throw new KeywardError("ERR_TPM_EK_UNTRUSTED", "EK: no TCG EK template for this key type or size", {
    detail: { check: "ekTemplate" },
  });
}

/**
 * Checks an AK's attributes, then makes the credential challenge for it. `secret` must be fresh
 * random bytes (16 to 32), kept by the verifier.
 * @throws ERR_TPM_AK_ATTRIBUTES (check "akAttributes"), ERR_TPM_PUBLIC_INVALID
 */
export function challengeAk(
  ek: TrustedEk | TpmPublic,
  akPublic: Uint8Array | TpmPublic,
  secret: Uint8Array,
): AkChallenge {
  const ak = akPublic instanceof Uint8Array ? parseTpm2bPublic(akPublic) : akPublic;
  requireAkAttributes(ak);
  if (secret.byteLength < 16 || secret.byteLength > 32)
    throw new KeywardError("ERR_INPUT_INVALID", "AK challenge: the secret must be 16 to 32 random bytes");
  return { ak, credential: makeCredential(credentialKeyOf(ek), secret, ak.name), secret };
}

/**
 * Compares the TPM's answer with the secret, in constant time: equal means the TPM holding the EK
 * also holds this AK. Returns the now trusted AK.
 * @throws ERR_TPM_AK_UNTRUSTED (check "akActivation")
 */
export function completeAkChallenge(challenge: AkChallenge, answer: Uint8Array): TpmPublic {
  if (!secretEqual(answer, challenge.secret)) {
    throw new KeywardError("ERR_TPM_AK_UNTRUSTED", "AK: the TPM did not recover the credential secret", {
      detail: { check: "akActivation" },
    });
  }
  return challenge.ak;
}

/**
 * Pinned-AK mode: the AK is trusted when its Name (which covers its whole public area) is one
 * of the pinned Names, and its attributes are those of an AK.
 * @throws ERR_TPM_AK_UNTRUSTED (check "akTrust"), ERR_TPM_AK_ATTRIBUTES
 */
export function pinnedAk(akPublic: Uint8Array | TpmPublic, pinnedNames: readonly Uint8Array[]): TpmPublic {
  const ak = akPublic instanceof Uint8Array ? parseTpm2bPublic(akPublic) : akPublic;
  if (!pinnedNames.some((n) => secretEqual(n, ak.name)))
    throw new KeywardError("ERR_TPM_AK_UNTRUSTED", "AK: its Name is not among the pinned ones", {
      detail: { check: "akTrust" },
    });
  requireAkAttributes(ak);
  return ak;
}

function requireAkAttributes(ak: TpmPublic): void {
  if (!hasAkAttributes(ak.attributes)) {
    throw new KeywardError(
      "ERR_TPM_AK_ATTRIBUTES",
      `AK attributes 0x${ak.attributes.toString(16).padStart(8, "0")} are not those of a restricted signing key bound to its TPM`,
      { detail: { check: "akAttributes" } },
    );
  }
}
