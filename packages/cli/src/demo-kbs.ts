/**
 * The Confidential Containers guest of `keyward demo`: the KBS protocol (Trustee's RCAR, version
 * 0.4.0) as guest components speak it — auth (version, TEE, supported hash algorithms) → a nonce;
 * attest with the TEE's public key (JWK) and a TDX quote whose report data is the selected hash
 * of the canonical runtime data `{"additional-evidence", "nonce", "tee-pubkey"}` → a token in the
 * `kbs-session-id` cookie; then a resource, a JWE to the TEE key, opened here.
 *
 * @module
 */
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { flattenedDecrypt } from "jose";

/** RFC 8785 canonical JSON (keys sorted, no whitespace): the runtime data as guest components hash it. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(",")}}`;
}

/** What the guest got: the resource's value, or the HTTP status and the KBS error it was refused with. */
export type KbsOutcome =
  | { readonly value: Uint8Array }
  | { readonly refused: number; readonly step: "attest" | "resource"; readonly detail: string };

/**
 * Fetches `/kbs/v0/resource/<resource>` from the KBS at `url` as a TDX guest whose quotes
 * `quoteFor(reportData)` makes.
 */
export async function kbsGuestFetch(
  url: string,
  resource: string,
  quoteFor: (reportData: Uint8Array) => Uint8Array,
): Promise<KbsOutcome> {
  const post = (path: string, body: unknown, cookie?: string) =>
    fetch(new URL(path, url), {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie === undefined ? {} : { cookie }) },
      body: JSON.stringify(body),
    });
  const auth = await post("/kbs/v0/auth", {
    version: "0.4.0",
    tee: "tdx",
    "extra-params": { "supported-hash-algorithms": ["sha384", "sha256"] },
  });
  const cookie = (auth.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const challenge = (await auth.json()) as { nonce: string; "extra-params"?: Record<string, string> };
  const hash = challenge["extra-params"]?.["selected-hash-algorithm"] ?? "sha384";
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const j = publicKey.export({ format: "jwk" });
  const teePubkey = { kty: "EC", crv: "P-256", alg: "ECDH-ES+A256KW", x: j.x, y: j.y };
  const reportData = new Uint8Array(64);
  reportData.set(
    createHash(hash)
      .update(canonical({ "additional-evidence": "", nonce: challenge.nonce, "tee-pubkey": teePubkey }))
      .digest(),
  );
  const quote = Buffer.from(quoteFor(reportData)).toString("base64");
  const attest = await post(
    "/kbs/v0/attest",
    {
      "runtime-data": { nonce: challenge.nonce, "tee-pubkey": teePubkey },
      "tee-evidence": { primary_evidence: { cc_eventlog: null, quote }, additional_evidence: "" },
    },
    cookie,
  );
  if (attest.status !== 200)
    return { refused: attest.status, step: "attest", detail: await detailOf(attest) };
  const got = await fetch(new URL(`/kbs/v0/resource/${resource}`, url), { headers: { cookie } });
  if (got.status !== 200) return { refused: got.status, step: "resource", detail: await detailOf(got) };
  return { value: await open(privateKey, (await got.json()) as Record<string, string>) };
}

async function detailOf(r: Response): Promise<string> {
  const body = (await r.json().catch(() => ({}))) as { detail?: unknown };
  return String(body.detail ?? r.statusText);
}

async function open(privateKey: KeyObject, jwe: Record<string, string>): Promise<Uint8Array> {
  const { plaintext } = await flattenedDecrypt(
    {
      protected: jwe.protected ?? "",
      encrypted_key: jwe.encrypted_key ?? "",
      iv: jwe.iv ?? "",
      ciphertext: jwe.ciphertext ?? "",
      tag: jwe.tag ?? "",
    },
    privateKey,
    { keyManagementAlgorithms: ["ECDH-ES+A256KW"], contentEncryptionAlgorithms: ["A256GCM"] },
  );
  return plaintext;
}
