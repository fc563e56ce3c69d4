/**
 * Verifying a TPM 2.0 quote, in the order of reference/tpm.md §7: the AK's attributes, the
 * signing scheme, the signature over the exact message, magic and type, extraData, the PCR
 * selection, the PCR digest, a PCR policy, and optionally the qualified signer and the clock.
 * Every failure names the check that failed (`detail.check`).
 *
 * What this proves, and what it does not without a trusted AK: see docs/tpm.md.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { bytesEqual } from "../../bytes/equal.ts";
import { toHex } from "../../bytes/hex.ts";
import { keyKind } from "../../crypto/key-details.ts";
import { secretEqual } from "../../crypto/secret-equal.ts";
import { verifyTpmSignature } from "../../crypto/tpm-signature.ts";
import type { ErrorCode } from "../../errors/codes.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { type PcrBankSelection, parseTpmQuoteAttest, type TpmQuoteAttest } from "./attest.ts";
import { hasAkAttributes, TPM_ALG, TPM_ECC, TPM_HASHES } from "./constants.ts";
import { pcrDigestOf, splitPcrValues } from "./pcr.ts";
import type { TpmPublic } from "./public-area.ts";
import { parseTpmtSignature } from "./signature.ts";

/** An expected PCR value (e.g. PCR 23 = extend(0, SHA-256(certificate DER))). */
export interface PcrExpectation {
  readonly hash: number;
  readonly index: number;
  readonly value: Uint8Array;
  /** The name of the check reported when it fails; default "pcrPolicy". */
  readonly check?: string;
}

/** What a quote is verified against. */
export interface TpmQuoteCheck {
  /**
   * The attestation key, trusted by the caller (pinned, or activated through its EK): its public
   * area, or — for a key pinned as a bare public key — `{ pinned }`, whose attributes the caller
   * vouches for because they cannot be checked.
   */
  readonly ak: TpmPublic | { readonly pinned: KeyObject };
  /** TPMS_ATTEST, exactly as signed. */
  readonly quote: Uint8Array;
  /** TPMT_SIGNATURE. */
  readonly signature: Uint8Array;
  /** The expected extraData: a fresh nonce, or SHA-256(nonce ‖ certificate hash). */
  readonly extraData: Uint8Array;
  /** The exact PCR selection required (banks in order, PCRs ascending). */
  readonly pcrSelection?: readonly PcrBankSelection[];
  /** The reported PCR values, concatenated in selection order. */
  readonly pcrValues?: Uint8Array;
  readonly pcrPolicy?: readonly PcrExpectation[];
  /** The AK's expected qualified name. */
  readonly qualifiedSigner?: Uint8Array;
  /** The previous quote of the same AK: its counters may not go back, its clock not stand still. */
  readonly previous?: { readonly clock: bigint; readonly resetCount: number; readonly restartCount: number };
}

/** A verified quote. */
export interface TpmQuoteVerdict extends Omit<TpmQuoteAttest, "magic" | "type" | "pcrDigest"> {
  /** The AK's Name (absent for a pinned bare key). */
  readonly akName?: Uint8Array;
  /** False when the AK was a bare pinned key, whose attributes could not be checked. */
  readonly akAttributesChecked: boolean;
  /** The quoted PCR values (their digest is the quote's pcrDigest). */
  readonly pcrs: readonly { readonly hash: number; readonly index: number; readonly value: Uint8Array }[];
}

/**
 * Verifies a quote.
 * @throws KeywardError with `detail.check` naming the failed check
 */
export function verifyTpmQuote(c: TpmQuoteCheck): TpmQuoteVerdict {
  const verdict = runChecks(c, undefined);
  if (verdict === undefined) throw new KeywardError("ERR_INTERNAL", "TPM quote: no verdict");
  return verdict;
}

/**
 * Runs every check that can run, even after one failed, and returns the names of those that
 * failed, in order (empty: the quote verifies). For diagnostics: the MANIFEST's negatives each
 * fail a known set of checks. A quote is accepted by {@link verifyTpmQuote} alone.
 */
export function diagnoseTpmQuote(c: TpmQuoteCheck): string[] {
  const failures: KeywardError[] = [];
  try {
    runChecks(c, failures);
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    failures.push(e);
  }
  return [...new Set(failures.map((e) => String(e.detail?.check ?? e.code)))];
}

// Without `collect`, the first failure throws. With it, a failure is recorded and the checks that
// do not depend on the failed one still run; a failure others depend on (parsing) still throws.
function runChecks(c: TpmQuoteCheck, collect: KeywardError[] | undefined): TpmQuoteVerdict | undefined {
  const step = (f: () => void): void => {
    if (collect === undefined) {
      f();
      return;
    }
    try {
      f();
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
      collect.push(e);
    }
  };
  const ak: AkView = "pinned" in c.ak ? fromPinned(c.ak.pinned) : c.ak;
  // 1. A restricted signing key that never left its TPM: only such a key's quote says "the TPM
  //    attested this"; an unrestricted key signs whatever bytes it is given (tpm2_checkquote
  //    accepts those forgeries).
  step(() => {
    if (ak.attributes !== undefined && !hasAkAttributes(ak.attributes)) {
      fail(
        "ERR_TPM_AK_ATTRIBUTES",
        "akAttributes",
        `AK attributes 0x${ak.attributes.toString(16).padStart(8, "0")} lack fixedTPM|fixedParent|sensitiveDataOrigin|restricted|sign, or have decrypt`,
      );
    }
  });
  const curveSize = ak.curve === TPM_ECC.NIST_P256 ? 32 : ak.curve === TPM_ECC.NIST_P384 ? 48 : 0;
  if (ak.type === "ecc" ? curveSize === 0 : (ak.keyBits ?? 0) < 2048) {
    fail(
      "ERR_TPM_SCHEME_UNSUPPORTED",
      "akAttributes",
      "AK must be ECC P-256/P-384 or RSA of at least 2048 bits",
    );
  }
  // 2. The scheme: the signature's algorithm and hash are the AK's, from the allow-list.
  const sig = parseTpmtSignature(c.signature);
  const hash = TPM_HASHES[sig.hash];
  if (hash === undefined)
    fail(
      "ERR_TPM_SCHEME_UNSUPPORTED",
      "scheme",
      `signature hash 0x${sig.hash.toString(16)} is not SHA-256/384/512`,
    );
  const keyAlgs: readonly number[] = ak.type === "ecc" ? [TPM_ALG.ECDSA] : [TPM_ALG.RSASSA, TPM_ALG.RSAPSS];
  step(() => {
    if (
      !keyAlgs.includes(sig.alg) ||
      (ak.scheme.alg !== TPM_ALG.NULL && (ak.scheme.alg !== sig.alg || ak.scheme.hash !== sig.hash))
    ) {
      fail(
        "ERR_TPM_SCHEME_UNSUPPORTED",
        "scheme",
        `signature scheme 0x${sig.alg.toString(16)}/0x${sig.hash.toString(16)} is not the AK's`,
      );
    }
  });
  // 3. The signature over the exact message bytes.
  step(() => {
    const ok = verifyTpmSignature(
      ak.key,
      hash.name,
      c.quote,
      sig.alg === TPM_ALG.ECDSA
        ? { kind: "ecdsa", r: sig.r, s: sig.s, size: curveSize }
        : { kind: sig.alg === TPM_ALG.RSAPSS ? "rsapss" : "rsassa", sig: sig.sig },
    );
    if (!ok)
      fail("ERR_TPM_QUOTE_SIGNATURE_INVALID", "signature", "quote signature does not verify with the AK");
  });
  // 4. Magic and type (in the parser), and nothing left over.
  const a = parseTpmQuoteAttest(c.quote);
  // 5. extraData, in constant time.
  step(() => {
    if (!secretEqual(a.extraData, c.extraData))
      fail("ERR_TPM_EXTRA_DATA_MISMATCH", "extraData", "extraData is not the expected nonce binding");
  });
  // 6. Exactly the PCR selection asked for.
  step(() => {
    if (c.pcrSelection !== undefined && !sameSelection(a.pcrSelection, c.pcrSelection)) {
      fail(
        "ERR_TPM_PCR_SELECTION_MISMATCH",
        "pcrSelection",
        `quoted PCR selection ${describe(a.pcrSelection)} is not ${describe(c.pcrSelection)}`,
      );
    }
  });
  // 7. pcrDigest recomputed from the reported values.
  const pcrs = c.pcrValues === undefined ? [] : splitPcrValues(a.pcrSelection, c.pcrValues);
  step(() => {
    if (c.pcrValues !== undefined && !bytesEqual(pcrDigestOf(hash.name, pcrs), a.pcrDigest)) {
      fail(
        "ERR_TPM_PCR_DIGEST_MISMATCH",
        "pcrDigest",
        "pcrDigest is not the digest of the reported PCR values",
      );
    }
  });
  // 8. The PCR policy.
  for (const p of c.pcrPolicy ?? []) {
    step(() => {
      const got = pcrs.find((v) => v.hash === p.hash && v.index === p.index);
      if (got === undefined || !bytesEqual(got.value, p.value)) {
        fail(
          "ERR_TPM_PCR_POLICY_MISMATCH",
          p.check ?? "pcrPolicy",
          `PCR ${p.index} is ${got === undefined ? "not reported" : toHex(got.value)}, expected ${toHex(p.value)}`,
        );
      }
    });
  }
  // 9. Optional: the qualified signer, and clock monotonicity against the previous quote.
  step(() => {
    if (c.qualifiedSigner !== undefined && !bytesEqual(a.qualifiedSigner, c.qualifiedSigner)) {
      fail(
        "ERR_TPM_QUALIFIED_SIGNER_MISMATCH",
        "qualifiedSigner",
        "qualifiedSigner is not the AK's qualified name",
      );
    }
  });
  const prev = c.previous;
  step(() => {
    if (prev === undefined) return;
    const regressed =
      a.resetCount < prev.resetCount ||
      (a.resetCount === prev.resetCount && a.restartCount < prev.restartCount) ||
      (a.resetCount === prev.resetCount && a.restartCount === prev.restartCount && a.clock <= prev.clock) ||
      !a.safe;
    if (regressed)
      fail(
        "ERR_TPM_CLOCK_REGRESSION",
        "clock",
        "the TPM clock or its reset/restart counters went back, or clock is not safe",
      );
  });
  if (collect !== undefined && collect.length > 0) return undefined;
  return {
    ...(ak.name === undefined ? {} : { akName: ak.name }),
    akAttributesChecked: ak.attributes !== undefined,
    qualifiedSigner: a.qualifiedSigner,
    extraData: a.extraData,
    clock: a.clock,
    resetCount: a.resetCount,
    restartCount: a.restartCount,
    safe: a.safe,
    firmwareVersion: a.firmwareVersion,
    pcrSelection: a.pcrSelection,
    pcrs,
  };
}

interface AkView {
  readonly type: "rsa" | "ecc";
  readonly attributes?: number;
  readonly curve?: number;
  readonly keyBits?: number;
  readonly scheme: { readonly alg: number; readonly hash?: number };
  readonly key: KeyObject;
  readonly name?: Uint8Array;
}

// A bare pinned key: its type and size are read from the key; its attributes are unknown.
function fromPinned(key: KeyObject): AkView {
  const kind = keyKind(key);
  if (kind === "ec:prime256v1")
    return { type: "ecc", curve: TPM_ECC.NIST_P256, scheme: { alg: TPM_ALG.NULL }, key };
  if (kind === "ec:secp384r1")
    return { type: "ecc", curve: TPM_ECC.NIST_P384, scheme: { alg: TPM_ALG.NULL }, key };
  if (kind.startsWith("rsa:"))
    return { type: "rsa", keyBits: Number(kind.slice(4)), scheme: { alg: TPM_ALG.NULL }, key };
  return fail(
    "ERR_TPM_SCHEME_UNSUPPORTED",
    "akAttributes",
    `pinned AK of type ${kind} is not ECC P-256/P-384 or RSA`,
  );
}

function sameSelection(a: readonly PcrBankSelection[], b: readonly PcrBankSelection[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.hash === b[i]?.hash && x.pcrs.join(",") === b[i]?.pcrs.join(","))
  );
}

function describe(s: readonly PcrBankSelection[]): string {
  return s.map((b) => `0x${b.hash.toString(16)}:${b.pcrs.join(",")}`).join("+") || "(none)";
}

function fail(code: ErrorCode, check: string, message: string): never {
  throw new KeywardError(code, `TPM quote: ${message}`, { detail: { check } });
}
