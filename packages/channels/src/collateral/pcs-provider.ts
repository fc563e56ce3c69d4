/**
 * A DCAP collateral provider for an Intel PCS or PCCS base URL (PCS API v4). Collateral is cached
 * per TEE, FMSPC and PCK CA until the earliest nextUpdate of what it holds; concurrent requests
 * for the same key share one fetch; failures are never cached.
 *
 * @module
 */
import { collateralFromPcs, type DcapCollateral, parseQeIdentity, parseTcbInfo } from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { parseCrl } from "@keyward/attest/x509";

/** Which collateral: the TEE, the platform's FMSPC, and the CA that issued its PCK certificate. */
export interface CollateralRequest {
  readonly tee: "sgx" | "tdx";
  readonly fmspc: Uint8Array;
  readonly ca: "processor" | "platform";
}

/** Fetches (and caches) collateral. */
export interface CollateralProvider {
  get(request: CollateralRequest): Promise<DcapCollateral>;
  /** Entries currently cached. */
  readonly size: number;
}

/** Options of {@link createCollateralProvider}. */
export interface CollateralProviderOptions {
  /** PCS or PCCS base URL, e.g. `https://pccs.example:8081` (the `/sgx/certification/v4/...` paths are appended). */
  readonly baseUrl: string;
  /** The Root CA CRL's URL; default `{baseUrl}/sgx/certification/v4/rootcacrl` (PCCS). */
  readonly rootCaCrlUrl?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
  readonly timeoutMs?: number;
  readonly maxEntries?: number;
  /**
   * Told of every lookup: `hit` when a cached entry still valid answered it, `miss` when it was
   * fetched (or waited for a fetch in flight); `error` when that fetch failed.
   */
  readonly onLookup?: (event: { readonly result: "hit" | "miss"; readonly error?: unknown }) => void;
}

const MAX_RESPONSE = 4 * 1024 * 1024;

interface Entry {
  readonly collateral: DcapCollateral;
  readonly expiresAt: number;
}

/** A provider over Intel's PCS v4 API. */
export function createCollateralProvider(options: CollateralProviderOptions): CollateralProvider {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 256;
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<DcapCollateral>>();

  const get = async (url: string, header?: string): Promise<{ body: Uint8Array; chain: string }> => {
    let response: Response;
    try {
      response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    } catch (cause) {
      throw new KeywardError(
        "ERR_COLLATERAL_FETCH_FAILED",
        `collateral: ${redact(url)} could not be fetched`,
        {
          cause,
          detail: { url: redact(url) },
        },
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new KeywardError(
        "ERR_COLLATERAL_FETCH_FAILED",
        `collateral: ${redact(url)} answered HTTP ${response.status}`,
        {
          detail: { url: redact(url), status: response.status },
        },
      );
    }
    const body = await readBounded(response, url);
    let chain = "";
    if (header !== undefined) {
      const raw = response.headers.get(header);
      if (raw === null)
        throw new KeywardError(
          "ERR_COLLATERAL_MALFORMED",
          `collateral: ${redact(url)} has no ${header} header`,
        );
      try {
        chain = decodeURIComponent(raw);
      } catch (cause) {
        throw new KeywardError("ERR_COLLATERAL_MALFORMED", `collateral: ${header} is not URL-encoded PEM`, {
          cause,
        });
      }
    }
    return { body, chain };
  };

  const fetchCollateral = async (r: CollateralRequest): Promise<Entry> => {
    const fmspc = Buffer.from(r.fmspc).toString("hex").toUpperCase();
    const [tcb, qe, pckCrl, rootCrl] = await Promise.all([
      get(`${base}/${r.tee}/certification/v4/tcb?fmspc=${fmspc}`, "TCB-Info-Issuer-Chain"),
      get(`${base}/${r.tee}/certification/v4/qe/identity`, "SGX-Enclave-Identity-Issuer-Chain"),
      get(`${base}/sgx/certification/v4/pckcrl?ca=${r.ca}&encoding=der`, "SGX-PCK-CRL-Issuer-Chain"),
      get(options.rootCaCrlUrl ?? `${base}/sgx/certification/v4/rootcacrl`),
    ]);
    const text = (b: Uint8Array) => new TextDecoder("utf-8", { fatal: true }).decode(b);
    let collateral: DcapCollateral;
    try {
      collateral = collateralFromPcs({
        tcbInfoResponse: text(tcb.body),
        tcbInfoIssuerChain: tcb.chain,
        qeIdentityResponse: text(qe.body),
        qeIdentityIssuerChain: qe.chain,
        pckCrl: derOrHex(pckCrl.body),
        pckCrlIssuerChain: pckCrl.chain,
        rootCaCrl: derOrHex(rootCrl.body),
      });
    } catch (cause) {
      if (cause instanceof KeywardError) throw cause;
      throw new KeywardError(
        "ERR_COLLATERAL_MALFORMED",
        "collateral: a response is not text where text is expected",
        { cause },
      );
    }
    // Expire with the earliest nextUpdate of what the entry holds.
    const expiresAt = Math.min(
      parseTcbInfo(collateral.tcbInfo.body).nextUpdate.getTime(),
      parseQeIdentity(collateral.qeIdentity.body).nextUpdate.getTime(),
      parseCrl(collateral.pckCrl).nextUpdate.getTime(),
      parseCrl(collateral.rootCaCrl).nextUpdate.getTime(),
    );
    return { collateral, expiresAt };
  };

  return {
    async get(request) {
      const key = `${request.tee}:${Buffer.from(request.fmspc).toString("hex")}:${request.ca}`;
      const hit = cache.get(key);
      const observe = options.onLookup;
      if (hit !== undefined && hit.expiresAt > now().getTime()) {
        observe?.({ result: "hit" });
        return hit.collateral;
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) {
        observe?.({ result: "miss" });
        return pending;
      }
      const p = fetchCollateral(request)
        .then((entry) => {
          cache.delete(key);
          cache.set(key, entry);
          if (cache.size > maxEntries) {
            const oldest = cache.keys().next();
            if (oldest.done !== true) cache.delete(oldest.value);
          }
          return entry.collateral;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, p);
      if (observe !== undefined)
        p.then(
          () => observe({ result: "miss" }),
          (error: unknown) => observe({ result: "miss", error }),
        );
      return p;
    },
    get size() {
      return cache.size;
    },
  };
}

async function readBounded(response: Response, url: string): Promise<Uint8Array> {
  const length = Number(response.headers.get("content-length") ?? "0");
  if (length > MAX_RESPONSE) {
    await response.body?.cancel();
    throw new KeywardError(
      "ERR_COLLATERAL_MALFORMED",
      `collateral: ${redact(url)} is larger than ${MAX_RESPONSE} bytes`,
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body === null) return new Uint8Array();
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_RESPONSE) {
      await reader.cancel();
      throw new KeywardError(
        "ERR_COLLATERAL_MALFORMED",
        `collateral: ${redact(url)} is larger than ${MAX_RESPONSE} bytes`,
      );
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

// PCCS versions differ: CRLs come as DER or as hex text.
function derOrHex(body: Uint8Array): Uint8Array {
  if (body[0] === 0x30) return body;
  const text = new TextDecoder().decode(body).trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return new Uint8Array(Buffer.from(text, "hex"));
  throw new KeywardError("ERR_COLLATERAL_MALFORMED", "collateral: a CRL is neither DER nor hex");
}

// Never put credentials that may sit in a URL (user:password@, api keys in the query) in an error.
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
