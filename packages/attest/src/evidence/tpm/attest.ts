/**
 * TPMS_ATTEST of a TPM2_Quote (Part 2 §10.12.12): big-endian, TPM2B fields sized, parsed
 * sequentially with nothing left over.
 *
 * @module
 */
import { ByteReader } from "../../bytes/byte-reader.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE } from "./constants.ts";

/** One bank of a TPML_PCR_SELECTION, with the selected PCR indices ascending. */
export interface PcrBankSelection {
  readonly hash: number;
  readonly pcrs: readonly number[];
}

/** A parsed quote attestation. */
export interface TpmQuoteAttest {
  readonly magic: number;
  readonly type: number;
  readonly qualifiedSigner: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
  readonly firmwareVersion: bigint;
  readonly pcrSelection: readonly PcrBankSelection[];
  readonly pcrDigest: Uint8Array;
}

/** sizeof(TPMT_HA) with SHA-512, the largest digest: 2 + 64. */
const MAX_TPM2B = 66;
const MAX_PCR_BANKS = 16;
const MAX_PCR_SELECT_BYTES = 32;

/**
 * Parses the TPMS_ATTEST of a quote.
 * @throws ERR_TPM_ATTEST_INVALID (detail.check "magic" or "type"), ERR_BYTES_*
 */
export function parseTpmQuoteAttest(bytes: Uint8Array): TpmQuoteAttest {
  const r = new ByteReader(bytes, "TPMS_ATTEST");
  const magic = r.u32be(); //                                     0
  if (magic !== TPM_GENERATED_VALUE)
    fail("magic", `magic is 0x${magic.toString(16)}, not TPM_GENERATED_VALUE`);
  const type = r.u16be(); //                                      4
  if (type !== TPM_ST_ATTEST_QUOTE) fail("type", `type 0x${type.toString(16)} is not TPM_ST_ATTEST_QUOTE`);
  const qualifiedSigner = tpm2b(r, "qualifiedSigner"); //         6
  const extraData = tpm2b(r, "extraData");
  const clock = r.u64be(); //                                     TPMS_CLOCK_INFO
  const resetCount = r.u32be();
  const restartCount = r.u32be();
  const safe = r.u8();
  if (safe > 1) fail("clock", `clockInfo.safe is ${safe}, not a TPMI_YES_NO`);
  const firmwareVersion = r.u64be();
  const pcrSelection = readPcrSelection(r); //                    TPMS_QUOTE_INFO
  const pcrDigest = tpm2b(r, "pcrDigest");
  r.end();
  return {
    magic,
    type,
    qualifiedSigner,
    extraData,
    clock,
    resetCount,
    restartCount,
    safe: safe === 1,
    firmwareVersion,
    pcrSelection,
    pcrDigest,
  };
}

/** Reads a TPML_PCR_SELECTION. */
export function readPcrSelection(r: ByteReader): PcrBankSelection[] {
  const count = r.length(r.u32be(), MAX_PCR_BANKS, "pcrSelect.count");
  const banks: PcrBankSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16be();
    const bitmap = r.bytes(r.length(r.u8(), MAX_PCR_SELECT_BYTES, "pcrSelect.sizeofSelect"));
    const pcrs: number[] = [];
    // PCR n is bit n % 8 of byte n / 8, least significant bit first.
    bitmap.forEach((byte, j) => {
      for (let bit = 0; bit < 8; bit++) if ((byte & (1 << bit)) !== 0) pcrs.push(j * 8 + bit);
    });
    banks.push({ hash, pcrs });
  }
  return banks;
}

function tpm2b(r: ByteReader, field: string): Uint8Array {
  return r.bytes(r.length(r.u16be(), MAX_TPM2B, field));
}

function fail(check: string, message: string): never {
  throw new KeywardError("ERR_TPM_ATTEST_INVALID", `TPMS_ATTEST: ${message}`, { detail: { check } });
}
