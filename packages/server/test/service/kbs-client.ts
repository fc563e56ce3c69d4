/**
 * A KBS client written from the protocol description (Trustee kbs_attestation_protocol.md) and
 * guest components' `kbs_protocol` RCAR client, for tests: it speaks as attestation-agent does —
 * a Request with `version`, `tee` and `extra-params.supported-hash-algorithms`; runtime data
 * `{"additional-evidence", "nonce", "tee-pubkey"}` canonicalized (RFC 8785) and hashed with the
 * Challenge's selected algorithm (SHA-384 by default), zero-padded to the 64-byte report data;
 * TDX evidence `{"cc_eventlog", "quote"}` and SGX evidence `{"quote"}` with standard base64; a
 * cookie jar for `kbs-session-id`; and JWE decryption that rebuilds the AAD the way kbs-types does
 * (parse the protected header, serialize it again: `alg`, `enc`, then the other members sorted).
 * It uses no Keyward code, so it checks the server against the protocol, not against itself.
 */
import {
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { request as httpRequest } from "node:http";
import { request } from "node:https";

/** What the transport needs. */
export interface KbsEndpoint {
  readonly url: string; // https://127.0.0.1:PORT or http://…
  readonly ca?: string;
}

/** An HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly setCookie: readonly string[];
}

/** One HTTP exchange (HTTP/1.1, as reqwest speaks it). */
export function call(
  endpoint: KbsEndpoint,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const url = new URL(path, endpoint.url);
  const data =
    body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  const make = url.protocol === "https:" ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(
      url,
      {
        method,
        ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
        headers: {
          ...(data === undefined
            ? {}
            : { "content-type": "application/json", "content-length": data.length }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          const sc = res.headers["set-cookie"] ?? [];
          resolve({ status: res.statusCode ?? 0, body: parsed, setCookie: sc });
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** RFC 8785 canonical JSON (keys sorted, no whitespace). */
export function jcs(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${jcs(o[k])}`)
    .join(",")}}`;
}

/** The TEE key pair, as kbs_protocol's TeeKeyPair::new() makes it (EC P-256, ECDH-ES+A256KW). */
export function teeKeyPair(): { privateKey: KeyObject; jwk: Record<string, string> } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const j = publicKey.export({ format: "jwk" });
  // kbs-types TeePubKey::EC serializes kty (tag), crv, alg, x, y.
  return {
    privateKey,
    jwk: { kty: "EC", crv: "P-256", alg: "ECDH-ES+A256KW", x: j.x as string, y: j.y as string },
  };
}

/** The 64-byte report data for a nonce and TEE key (no additional evidence), hashed with `alg`. */
export function reportDataFor(
  nonce: string,
  jwk: Record<string, string>,
  alg = "sha384",
  additional = "",
): Uint8Array {
  const runtime = jcs({ "tee-pubkey": jwk, nonce, "additional-evidence": additional });
  const out = new Uint8Array(64);
  out.set(createHash(alg).update(runtime).digest());
  return out;
}

/** Evidence as guest components' attesters wrap a quote. */
export function evidenceOf(tee: "tdx" | "sgx", quote: Uint8Array): Record<string, unknown> {
  const b64 = Buffer.from(quote).toString("base64");
  return tee === "tdx" ? { cc_eventlog: null, quote: b64 } : { quote: b64 };
}

/** A cookie jar holding kbs-session-id. */
export class CookieJar {
  cookie: string | undefined;
  take(a: Answer): void {
    for (const c of a.setCookie) {
      const first = c.split(";")[0] ?? "";
      if (first.startsWith("kbs-session-id=")) this.cookie = first;
    }
  }
  headers(): Record<string, string> {
    return this.cookie === undefined ? {} : { cookie: this.cookie };
  }
}

/** Decrypts a KBS Response (flattened JWE) the way kbs-types + kbs_protocol do. */
export function decryptKbsResponse(privateKey: KeyObject, response: Record<string, string>): Buffer {
  const b = (s: string | undefined) => Buffer.from(s ?? "", "base64url");
  const header = JSON.parse(b(response.protected).toString("utf8")) as Record<string, unknown>;
  // kbs-types ProtectedHeader: alg, enc, then other_fields (a JSON map: sorted keys, nested too).
  const { alg, enc, ...other } = header;
  const reserialized = JSON.stringify({ alg, enc, ...JSON.parse(jcs(other)) });
  const aad = Buffer.from(Buffer.from(reserialized).toString("base64url"), "ascii");
  if (alg !== "ECDH-ES+A256KW" || enc !== "A256GCM")
    throw new Error(`unexpected ${String(alg)}/${String(enc)}`);
  const epk = other.epk as Record<string, string>;
  const z = diffieHellman({
    privateKey,
    publicKey: createPublicKey({
      key: { kty: "EC", crv: String(epk.crv), x: String(epk.x), y: String(epk.y) },
      format: "jwk",
    }),
  });
  const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const kek = createHash("sha256")
    .update(Buffer.concat([u32(1), z, u32(14), Buffer.from("ECDH-ES+A256KW"), u32(0), u32(0), u32(256)]))
    .digest();
  const unwrap = createDecipheriv("id-aes256-wrap", kek, Buffer.from("a6a6a6a6a6a6a6a6", "hex"));
  const cek = Buffer.concat([unwrap.update(b(response.encrypted_key)), unwrap.final()]);
  const gcm = createDecipheriv("aes-256-gcm", cek, b(response.iv));
  gcm.setAAD(aad);
  gcm.setAuthTag(b(response.tag));
  return Buffer.concat([gcm.update(b(response.ciphertext)), gcm.final()]);
}

/** The client side of a full handshake: auth, then attest with a quote made for the report data. */
export async function handshake(
  endpoint: KbsEndpoint,
  tee: "tdx" | "sgx",
  quoteFor: (reportData: Uint8Array) => Uint8Array,
  options: { readonly version?: string } = {},
): Promise<{ jar: CookieJar; key: ReturnType<typeof teeKeyPair>; token: string; attest: Answer }> {
  const jar = new CookieJar();
  const auth = await call(endpoint, "POST", "/kbs/v0/auth", {
    version: options.version ?? "0.4.0",
    tee,
    "extra-params": { "supported-hash-algorithms": ["sha256", "sha384", "sha512"] },
  });
  if (auth.status !== 200) throw new Error(`auth ${auth.status}: ${JSON.stringify(auth.body)}`);
  jar.take(auth);
  const challenge = auth.body as { nonce: string; "extra-params": Record<string, string> | string };
  const extra = challenge["extra-params"];
  const alg = typeof extra === "object" ? (extra["selected-hash-algorithm"] ?? "sha384") : "sha384";
  const key = teeKeyPair();
  const quote = quoteFor(reportDataFor(challenge.nonce, key.jwk, alg));
  const attest = await call(
    endpoint,
    "POST",
    "/kbs/v0/attest",
    {
      "runtime-data": { nonce: challenge.nonce, "tee-pubkey": key.jwk },
      "tee-evidence": { primary_evidence: evidenceOf(tee, quote), additional_evidence: "" },
    },
    jar.headers(),
  );
  jar.take(attest);
  const token = (attest.body as { token?: string }).token ?? "";
  return { jar, key, token, attest };
}
