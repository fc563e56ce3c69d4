/**
 * The KBS attestation protocol's messages (Trustee `kbs/docs/kbs_attestation_protocol.md`, the
 * `kbs-types` crate, guest-components' `kbs_protocol` client), read strictly:
 *
 * - Request (`POST /kbs/v0/auth`): `{ "version", "tee", "extra-params" }`. The version must parse as
 *   semver and equal 0.4.0 — Trustee's KBS accepts exactly its own version (`VersionReq "=0.4.0"`),
 *   because each published version changed the messages incompatibly: 0.1.0 and 0.1.1 (tee-pubkey
 *   at the top of Attestation, extra-params a string), 0.2.0 (the JWE's tag and AAD made RFC 7516),
 *   0.3.0 (composite evidence), 0.4.0 (runtime-data and init-data in Attestation). The client
 *   lists its hash algorithms in `extra-params["supported-hash-algorithms"]`.
 * - Challenge: `{ "nonce", "extra-params" }` — a base64 nonce of 32 random bytes, and
 *   `{"selected-hash-algorithm": "sha384"}` (TDX and SGX use SHA-384, the client's default too).
 * - Attestation (`POST /kbs/v0/attest`): `{ "init-data"?: { "format", "body" }, "runtime-data":
 *   { "nonce", "tee-pubkey": JWK }, "tee-evidence": { "primary_evidence", "additional_evidence" } }`.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";

/** The protocol version this listener speaks. */
export const KBS_PROTOCOL_VERSION = "0.4.0";

/** Every version guest components have sent (kbs_protocol `KBS_PROTOCOL_VERSION` over time). */
export const PUBLISHED_VERSIONS: readonly string[] = ["0.1.0", "0.1.1", "0.2.0", "0.3.0", "0.4.0"];

/** The TEEs whose evidence Keyward verifies (DCAP quotes). */
export type KbsTee = "tdx" | "sgx";

/** A KBS Request. */
export interface KbsRequest {
  readonly version: string;
  readonly tee: KbsTee;
  readonly supportedHashAlgorithms: readonly string[] | undefined;
}

/** The TEE public key as kbs-types serializes it (`TeePubKey`): the fields bound into the evidence. */
export type TeePubKey =
  | { readonly kty: "EC"; readonly crv: string; readonly alg: string; readonly x: string; readonly y: string }
  | { readonly kty: "RSA"; readonly alg: string; readonly n: string; readonly e: string };

/** A KBS Attestation. */
export interface KbsAttestation {
  readonly initData: { readonly format: string; readonly body: string } | undefined;
  readonly nonce: string;
  readonly teePubkey: TeePubKey;
  readonly primaryEvidence: unknown;
  readonly additionalEvidence: string;
}

const invalid = (message: string) => new KeywardError("ERR_KBS_REQUEST_INVALID", message);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/**
 * Checks a Request's version the way Trustee does (`semver::Version::parse`, then `=0.4.0`).
 * @throws ERR_KBS_VERSION (the detail carries Trustee's "KBS Client Protocol Version Mismatch"), ERR_KBS_REQUEST_INVALID
 */
export function checkVersion(version: unknown): string {
  if (typeof version !== "string" || version.length > 64)
    throw invalid("version must be a semantic version string");
  const m = SEMVER.exec(version);
  if (m === null) throw new KeywardError("ERR_KBS_VERSION", `failed to parse KBS version "${version}"`);
  // `=0.4.0` matches 0.4.0 and 0.4.0+build, never a pre-release (semver's VersionReq rules).
  if (m[1] !== "0" || m[2] !== "4" || m[3] !== "0" || m[4] !== undefined)
    throw new KeywardError(
      "ERR_KBS_VERSION",
      `KBS Client Protocol Version Mismatch: expect =${KBS_PROTOCOL_VERSION} while the request is ${version}`,
    );
  return version;
}

/** Parses a Request body. @throws ERR_KBS_REQUEST_INVALID, ERR_KBS_VERSION */
export function parseKbsRequest(body: unknown): KbsRequest {
  const r = obj(body);
  if (r === undefined) throw invalid("the Request is a JSON object");
  const version = checkVersion(r.version);
  if (r.tee !== "tdx" && r.tee !== "sgx")
    throw invalid(
      `tee "${String(r.tee).slice(0, 32)}" is not served here: this KBS verifies "tdx" and "sgx" evidence`,
    );
  const extra = obj(r["extra-params"]);
  const listed = extra?.["supported-hash-algorithms"];
  const supported = Array.isArray(listed)
    ? listed.filter((a): a is string => typeof a === "string").map((a) => a.toLowerCase())
    : undefined;
  return { version, tee: r.tee, supportedHashAlgorithms: supported };
}

const B64U = /^[A-Za-z0-9_-]+$/;

/** Parses the `tee-pubkey` JWK into the kbs-types fields. @throws ERR_KBS_REQUEST_INVALID */
export function parseTeePubKey(v: unknown): TeePubKey {
  const k = obj(v);
  const text = (name: string) => {
    const s = k?.[name];
    if (typeof s !== "string" || s.length === 0 || s.length > 1024)
      throw invalid(`runtime-data.tee-pubkey.${name} must be a string`);
    return s;
  };
  if (k?.kty === "EC") {
    const key = { kty: "EC" as const, crv: text("crv"), alg: text("alg"), x: text("x"), y: text("y") };
    if (!B64U.test(key.x) || !B64U.test(key.y)) throw invalid("tee-pubkey x and y are base64url");
    return key;
  }
  if (k?.kty === "RSA") {
    const key = { kty: "RSA" as const, alg: text("alg"), n: text("n"), e: text("e") };
    if (!B64U.test(key.n) || !B64U.test(key.e)) throw invalid("tee-pubkey n and e are base64url");
    return key;
  }
  throw invalid("runtime-data.tee-pubkey must be an EC or RSA JWK");
}

/** Parses an Attestation body (protocol 0.4.0). @throws ERR_KBS_REQUEST_INVALID */
export function parseKbsAttestation(body: unknown): KbsAttestation {
  const a = obj(body);
  if (a === undefined) throw invalid("the Attestation is a JSON object");
  const runtime = obj(a["runtime-data"]);
  if (runtime === undefined)
    throw invalid('the Attestation has no "runtime-data" (a client older than protocol 0.4.0?)');
  if (typeof runtime.nonce !== "string" || runtime.nonce.length > 256)
    throw invalid("runtime-data.nonce must be the challenge's nonce");
  const evidence = obj(a["tee-evidence"]);
  if (evidence === undefined || !("primary_evidence" in evidence))
    throw invalid('"tee-evidence" must hold primary_evidence and additional_evidence');
  const additional = evidence.additional_evidence ?? "";
  if (typeof additional !== "string") throw invalid("tee-evidence.additional_evidence is a JSON string");
  let initData: KbsAttestation["initData"];
  const init = a["init-data"];
  if (init !== undefined && init !== null) {
    const i = obj(init);
    if (i === undefined || typeof i.format !== "string" || typeof i.body !== "string")
      throw invalid('"init-data" is { "format", "body" }');
    initData = { format: i.format, body: i.body };
  }
  return {
    initData,
    nonce: runtime.nonce,
    teePubkey: parseTeePubKey(runtime["tee-pubkey"]),
    primaryEvidence: evidence.primary_evidence,
    additionalEvidence: additional,
  };
}

/**
 * The DCAP quote inside a TDX (`{ "quote", "cc_eventlog" }`) or SGX (`{ "quote" }`) primary
 * evidence, as guest components' attesters build it (standard base64).
 * @throws ERR_KBS_REQUEST_INVALID
 */
export function quoteOfEvidence(evidence: unknown, maxBytes: number): Uint8Array {
  const e = obj(evidence);
  const q = e?.quote;
  if (typeof q !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(q) || q.length % 4 !== 0)
    throw invalid('primary_evidence must be { "quote": base64 } (the attester\'s evidence)');
  if ((q.length / 4) * 3 > maxBytes + 2) throw invalid(`the quote is larger than ${maxBytes} bytes`);
  return new Uint8Array(Buffer.from(q, "base64"));
}
