/**
 * A verified quote's claims as plain JSON (bytes as lowercase hex) and back. The service records
 * this with each decision in its audit log, so an operator can replay a stored decision against a
 * policy later (`Explain`) without the original evidence.
 *
 * A record is only as trustworthy as the log holding it: it is read back from the hash-chained
 * audit log, never from a caller.
 *
 * @module
 */
import { fromHex, toHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { TCB_STATUSES, type TcbStatus, type VerifiedQuote, type WorkloadClaims } from "./claims.ts";

/** A JSON value. */
export type RecordValue =
  | string
  | number
  | boolean
  | null
  | readonly RecordValue[]
  | { readonly [key: string]: RecordValue };

/** JSON-safe form of {@link VerifiedQuote}. */
export type ClaimsRecord = { readonly [key: string]: RecordValue };

// Byte fields and their lengths, by TEE; numbers and booleans are listed apart.
const SGX_BYTES = {
  mrEnclave: 32,
  mrSigner: 32,
  attributes: 16,
  cpuSvn: 16,
  configId: 64,
  isvExtProdId: 16,
  isvFamilyId: 16,
  reportData: 64,
} as const;
const SGX_NUMBERS = ["isvProdId", "isvSvn", "miscSelect", "configSvn"] as const;
const SGX_FLAGS = ["debug", "mode64Bit"] as const;
const TDX_BYTES = {
  teeTcbSvn: 16,
  mrSeam: 48,
  mrSignerSeam: 48,
  seamAttributes: 8,
  tdAttributes: 8,
  xfam: 8,
  mrTd: 48,
  mrConfigId: 48,
  mrOwner: 48,
  mrOwnerConfig: 48,
  reportData: 64,
} as const;
const TDX_OPTIONAL_BYTES = { teeTcbSvn2: 16, mrServiceTd: 48 } as const;
const TDX_FLAGS = ["debug", "septVeDisable"] as const;

/** The record of `v` (every claim, bytes as hex). */
export function claimsRecord(v: VerifiedQuote): ClaimsRecord {
  const c = v.claims as unknown as Record<string, unknown>;
  const claims: Record<string, RecordValue> = {};
  for (const [k, value] of Object.entries(c)) {
    if (value instanceof Uint8Array) claims[k] = toHex(value);
    else if (k === "rtmr") claims[k] = (value as readonly Uint8Array[]).map(toHex);
    else claims[k] = value as RecordValue;
  }
  return {
    tee: v.tee,
    quoteVersion: v.quoteVersion,
    platform: v.platform,
    tcbStatus: v.tcbStatus,
    advisoryIds: [...v.advisoryIds],
    fmspc: toHex(v.fmspc),
    validUntil: v.validUntil.toISOString(),
    claims,
  };
}

/**
 * The verified quote a record describes.
 * @throws ERR_INPUT_INVALID naming the first field that is missing or malformed
 */
export function verifiedFromRecord(record: unknown): VerifiedQuote {
  const r = object(record, "$");
  const tee = oneOf(r.tee, ["sgx", "tdx"] as const, "$.tee");
  const quoteVersion = oneOf(r.quoteVersion, [3, 4, 5] as const, "$.quoteVersion");
  const platform = oneOf(r.platform, ["hardware", "simulated"] as const, "$.platform");
  const tcbStatus = oneOf(r.tcbStatus, TCB_STATUSES, "$.tcbStatus") as TcbStatus;
  const advisoryIds = r.advisoryIds;
  if (!Array.isArray(advisoryIds) || advisoryIds.some((a) => typeof a !== "string"))
    bad("$.advisoryIds", "a list of strings");
  // Typed before converting: String() of an object whose toString is not callable throws.
  if (typeof r.validUntil !== "string") bad("$.validUntil", "an ISO date");
  const validUntil = new Date(r.validUntil);
  if (Number.isNaN(validUntil.getTime())) bad("$.validUntil", "an ISO date");
  const c = object(r.claims, "$.claims");
  const out: Record<string, unknown> = { tee };
  const bytes = (k: string, len: number) => {
    const v = c[k];
    if (typeof v !== "string") bad(`$.claims.${k}`, `${len} bytes of hex`);
    const b = fromHex(v, `$.claims.${k}`);
    if (b.byteLength !== len) bad(`$.claims.${k}`, `${len} bytes of hex`);
    out[k] = b;
  };
  const flag = (k: string) => {
    if (typeof c[k] !== "boolean") bad(`$.claims.${k}`, "a boolean");
    out[k] = c[k];
  };
  if (tee === "sgx") {
    for (const [k, len] of Object.entries(SGX_BYTES)) bytes(k, len);
    for (const k of SGX_NUMBERS) {
      const v = c[k];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
        bad(`$.claims.${k}`, "an unsigned integer");
      out[k] = v;
    }
    for (const k of SGX_FLAGS) flag(k);
  } else {
    for (const [k, len] of Object.entries(TDX_BYTES)) bytes(k, len);
    for (const [k, len] of Object.entries(TDX_OPTIONAL_BYTES)) if (c[k] !== undefined) bytes(k, len);
    for (const k of TDX_FLAGS) flag(k);
    const rtmr = c.rtmr;
    if (!Array.isArray(rtmr) || rtmr.length !== 4) bad("$.claims.rtmr", "four 48-byte hex strings");
    out.rtmr = rtmr.map((v: unknown, i: number) => {
      const b = typeof v === "string" ? fromHex(v, `$.claims.rtmr[${i}]`) : undefined;
      if (b?.byteLength !== 48) bad(`$.claims.rtmr[${i}]`, "48 bytes of hex");
      return b;
    });
  }
  const fmspc = typeof r.fmspc === "string" ? fromHex(r.fmspc, "$.fmspc") : undefined;
  if (fmspc?.byteLength !== 6) bad("$.fmspc", "6 bytes of hex");
  return {
    tee,
    quoteVersion,
    platform,
    tcbStatus,
    advisoryIds: advisoryIds as string[],
    fmspc,
    claims: out as unknown as WorkloadClaims,
    validUntil,
  };
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(path, "an object");
  return v as Record<string, unknown>;
}

function oneOf<T extends string | number>(v: unknown, allowed: readonly T[], path: string): T {
  if (!allowed.includes(v as T)) bad(path, `one of ${allowed.join(", ")}`);
  return v as T;
}

function bad(path: string, expected: string): never {
  throw new KeywardError("ERR_INPUT_INVALID", `claims record ${path}: expected ${expected}`);
}
