/**
 * What KBS evidence must bind, exactly as guest components compute it
 * (`kbs_protocol/src/client/rcar_client.rs`, `get_composite_evidence`) and Trustee checks it
 * (`attestation-service` `parse_runtime_data`, the TDX and SGX verifiers):
 *
 *   runtime data  = {"additional-evidence": A, "nonce": N, "tee-pubkey": K}   (JSON, RFC 8785
 *                   canonical: keys sorted, no whitespace; K has the kbs-types TeePubKey fields
 *                   `kty, crv, alg, x, y` or `kty, alg, n, e`)
 *   report data   = SHA-384(runtime data) ‖ 16 zero bytes   (64 bytes; TDX REPORTDATA, SGX report_data)
 *
 * The hash algorithm is the one the Challenge selected (`extra-params["selected-hash-algorithm"]`,
 * SHA-384 for TDX and SGX; the client's default when none is named); the digest is zero-padded to
 * the 64-byte report data and compared whole.
 *
 * init-data (`{ "format": "toml", "body" }`) is bound the same way Trustee binds it: its `algorithm`
 * field names the hash of the body, which must equal MRCONFIGID (TDX, 48 bytes) or CONFIGID (SGX,
 * 64 bytes), zero-padded.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { VerifiedQuote } from "@keyward/attest/evidence";
import { parse as parseToml } from "smol-toml";
import type { TeePubKey } from "./protocol.ts";

/** The hash a TEE's runtime data is bound with. */
export const RUNTIME_DATA_HASH = "sha384";

/**
 * RFC 8785 (JSON Canonicalization Scheme) of a JSON value: object members sorted by UTF-16 code
 * units, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes them (which is
 * what the RFC specifies).
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}

/** The TeePubKey's serialized fields only (what kbs-types hashes). */
export function teePubKeyFields(k: TeePubKey): Record<string, string> {
  return k.kty === "EC"
    ? { kty: k.kty, crv: k.crv, alg: k.alg, x: k.x, y: k.y }
    : { kty: k.kty, alg: k.alg, n: k.n, e: k.e };
}

/** The 64-byte report data the evidence must carry for this nonce, key and additional evidence. */
export function expectedReportData(
  nonce: string,
  teePubkey: TeePubKey,
  additionalEvidence: string,
): Uint8Array {
  const runtimeData = canonicalJson({
    "tee-pubkey": teePubKeyFields(teePubkey),
    nonce,
    "additional-evidence": additionalEvidence,
  });
  const out = new Uint8Array(64);
  out.set(createHash(RUNTIME_DATA_HASH).update(runtimeData).digest());
  return out;
}

/**
 * Checks the verified quote's report data against the runtime data.
 * @throws ERR_KBS_EVIDENCE_BINDING
 */
export function checkReportData(verified: VerifiedQuote, expected: Uint8Array): void {
  const actual = verified.claims.reportData;
  if (actual.byteLength !== 64 || !timingSafeEqual(actual, expected))
    throw new KeywardError(
      "ERR_KBS_EVIDENCE_BINDING",
      "report data is not SHA-384 of the runtime data (nonce, tee-pubkey, additional-evidence)",
    );
}

// kbs-types HashAlgorithm names (case-insensitive), and the IANA textual names the initdata
// specification uses in its prose.
const INIT_DATA_HASHES: Readonly<Record<string, string>> = {
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
  "sha-256": "sha256",
  "sha-384": "sha384",
  "sha-512": "sha512",
};

/**
 * Checks init-data against the measured configuration ID (MRCONFIGID for TDX, CONFIGID for SGX).
 * @throws ERR_KBS_EVIDENCE_BINDING (not bound), ERR_KBS_REQUEST_INVALID (not TOML, unknown algorithm)
 */
export function checkInitData(verified: VerifiedQuote, initData: { format: string; body: string }): void {
  if (initData.format !== "toml")
    throw new KeywardError("ERR_KBS_REQUEST_INVALID", `init-data format "${initData.format}" is not toml`);
  let algorithm: unknown;
  try {
    algorithm = parseToml(initData.body).algorithm;
  } catch (cause) {
    throw new KeywardError("ERR_KBS_REQUEST_INVALID", "init-data body is not TOML", { cause });
  }
  const hash = typeof algorithm === "string" ? INIT_DATA_HASHES[algorithm.toLowerCase()] : undefined;
  if (hash === undefined)
    throw new KeywardError(
      "ERR_KBS_REQUEST_INVALID",
      "init-data names no algorithm among sha256, sha384, sha512",
    );
  const digest = createHash(hash).update(initData.body).digest();
  const c = verified.claims;
  const measured = c.tee === "tdx" ? c.mrConfigId : c.configId;
  const expected = new Uint8Array(measured.byteLength);
  expected.set(digest.subarray(0, measured.byteLength));
  if (!timingSafeEqual(expected, measured))
    throw new KeywardError(
      "ERR_KBS_EVIDENCE_BINDING",
      `init-data is not the measured ${c.tee === "tdx" ? "MRCONFIGID" : "CONFIGID"}`,
    );
}
