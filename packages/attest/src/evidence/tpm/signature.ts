/**
 * TPMT_SIGNATURE (Part 2 §11.3.4) for ECDSA, RSASSA and RSAPSS.
 *
 * @module
 */
import { ByteReader } from "../../bytes/byte-reader.ts";
import { KeywardError } from "../../errors/keyward-error.ts";
import { TPM_ALG } from "./constants.ts";

/** A parsed signature. */
export type TpmSignature =
  | {
      readonly alg: typeof TPM_ALG.ECDSA;
      readonly hash: number;
      readonly r: Uint8Array;
      readonly s: Uint8Array;
    }
  | {
      readonly alg: typeof TPM_ALG.RSASSA | typeof TPM_ALG.RSAPSS;
      readonly hash: number;
      readonly sig: Uint8Array;
    };

/**
 * Parses a TPMT_SIGNATURE; nothing may follow.
 * @throws ERR_TPM_SIGNATURE_MALFORMED, ERR_BYTES_*
 */
export function parseTpmtSignature(bytes: Uint8Array): TpmSignature {
  const r = new ByteReader(bytes, "TPMT_SIGNATURE");
  const alg = r.u16be();
  const hash = r.u16be();
  let out: TpmSignature;
  if (alg === TPM_ALG.ECDSA) {
    const rr = r.bytes(r.length(r.u16be(), 66, "signatureR"));
    const ss = r.bytes(r.length(r.u16be(), 66, "signatureS"));
    out = { alg, hash, r: rr, s: ss };
  } else if (alg === TPM_ALG.RSASSA || alg === TPM_ALG.RSAPSS) {
    out = { alg, hash, sig: r.bytes(r.length(r.u16be(), 512, "sig")) };
  } else {
    throw new KeywardError(
      "ERR_TPM_SIGNATURE_MALFORMED",
      `TPMT_SIGNATURE: algorithm 0x${alg.toString(16)} is not ECDSA, RSASSA or RSAPSS`,
      {
        detail: { check: "scheme" },
      },
    );
  }
  r.end();
  return out;
}
