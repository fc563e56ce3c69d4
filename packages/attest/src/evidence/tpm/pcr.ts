/**
 * PCR arithmetic: the extend operation, selections in tpm2-tools' notation, and the pcrDigest a
 * quote signs.
 *
 * @module
 */
import { concatBytes } from "../../bytes/equal.ts";
import { digest } from "../../crypto/digest.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import type { PcrBankSelection } from "./attest.ts";
import { TPM_BANKS, TPM_HASHES } from "./constants.ts";

/** PCR_Extend: H(old ‖ data). */
export function pcrExtend(
  hash: "sha256" | "sha384" | "sha512",
  old: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  return digest(hash, old, data);
}

/**
 * Parses "sha256:16,23" (several banks joined by "+": "sha256:0,1+sha384:23").
 * @throws ERR_INPUT_INVALID
 */
export function parsePcrList(text: string): PcrBankSelection[] {
  return text.split("+").map((part) => {
    const m = /^([a-z0-9]+):(\d{1,2}(?:,\d{1,2})*)$/.exec(part.trim());
    const hash = m === null ? undefined : TPM_BANKS[m[1] ?? ""];
    if (m === null || hash === undefined)
      throw new KeywardError("ERR_INPUT_INVALID", `PCR list "${part}": expected e.g. sha256:16,23`);
    const pcrs = [...new Set((m[2] ?? "").split(",").map(Number))].sort((a, b) => a - b);
    if (pcrs.some((p) => p > 23))
      throw new KeywardError("ERR_INPUT_INVALID", `PCR list "${part}": PCR indices are 0..23`);
    return { hash, pcrs };
  });
}

/** The values of a selection, split from their concatenation (`pcrs.bin`), in selection order. */
export function splitPcrValues(
  selection: readonly PcrBankSelection[],
  values: Uint8Array,
): { hash: number; index: number; value: Uint8Array }[] {
  const out: { hash: number; index: number; value: Uint8Array }[] = [];
  let at = 0;
  for (const bank of selection) {
    const size = bankSize(bank.hash);
    for (const index of bank.pcrs) {
      if (at + size > values.byteLength) {
        throw new KeywardError(
          "ERR_INPUT_INVALID",
          `PCR values: ${values.byteLength} bytes is too short for the selection`,
          { detail: { check: "pcrDigest" } },
        );
      }
      out.push({ hash: bank.hash, index, value: values.subarray(at, at + size) });
      at += size;
    }
  }
  if (at !== values.byteLength) {
    throw new KeywardError(
      "ERR_INPUT_INVALID",
      `PCR values: ${values.byteLength - at} bytes more than the selection holds`,
      { detail: { check: "pcrDigest" } },
    );
  }
  return out;
}

/** pcrDigest = H_sig(values in selection order); the hash is the signing scheme's (Part 3 §18.4). */
export function pcrDigestOf(
  signingHash: "sha256" | "sha384" | "sha512",
  values: readonly { readonly value: Uint8Array }[],
): Uint8Array {
  return digest(signingHash, concatBytes(...values.map((v) => v.value)));
}

function bankSize(hash: number): number {
  if (hash === 0x0004) return 20; // SHA-1 banks may be quoted and read, just not used to sign
  const h = TPM_HASHES[hash];
  if (h === undefined)
    throw new KeywardError("ERR_INPUT_INVALID", `PCR bank 0x${hash.toString(16)} is not supported`);
  return h.size;
}
