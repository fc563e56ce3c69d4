/**
 * Reference-value policies: who is acceptable (TEE, platform, measurements, signers, product,
 * SVNs, debug, TCB status). Validated field by field; every problem is reported at once with its
 * JSON path. Pure: no crypto, no I/O.
 *
 * What a policy *grants* (secrets, keys, …) is not appraisal: a service that grants names its
 * grant fields ({@link readPolicyDocument}), gets their raw values back and validates them itself.
 *
 * @module
 */
import { fromHex } from "../bytes/hex.ts";
import { KeywardError } from "../errors/keyward-error.ts";
import { type Platform, TCB_STATUSES, type TcbStatus } from "../evidence/claims.ts";

/** A validated policy. Byte values are decoded; absent lists mean "no constraint". */
export interface Policy {
  readonly id: string;
  /** Accepted TEE types (default: sgx and tdx). */
  readonly tee: readonly ("sgx" | "tdx")[];
  /** Accepted platforms (default: hardware only). */
  readonly platforms: readonly Platform[];
  /** Debug enclaves and TDs are refused unless this is true. */
  readonly allowDebug: boolean;
  /** Accepted TCB statuses (default: UpToDate only). */
  readonly tcbStatuses: readonly TcbStatus[];
  /** When set, every advisory ID of the evidence must be listed here. */
  readonly advisoryIds?: readonly string[];
  readonly mrEnclave?: readonly Uint8Array[];
  readonly mrSigner?: readonly Uint8Array[];
  readonly isvProdId?: readonly number[];
  readonly minIsvSvn?: number;
  readonly mrTd?: readonly Uint8Array[];
  readonly rtmr0?: readonly Uint8Array[];
  readonly rtmr1?: readonly Uint8Array[];
  readonly rtmr2?: readonly Uint8Array[];
  readonly rtmr3?: readonly Uint8Array[];
  readonly mrConfigId?: readonly Uint8Array[];
  readonly mrOwner?: readonly Uint8Array[];
  readonly mrOwnerConfig?: readonly Uint8Array[];
  readonly mrSeam?: readonly Uint8Array[];
  readonly mrServiceTd?: readonly Uint8Array[];
  /** TDX: require TDATTRIBUTES.SEPT_VE_DISABLE (default false). */
  readonly requireSeptVeDisable: boolean;
}

// Every accepted field; snake_case aliases keep the seed format `{ id, mr_enclave, app_token, secrets }`.
const MEASUREMENTS: Readonly<Record<string, number>> = {
  mrEnclave: 32,
  mrSigner: 32,
  mrTd: 48,
  rtmr0: 48,
  rtmr1: 48,
  rtmr2: 48,
  rtmr3: 48,
  mrConfigId: 48,
  mrOwner: 48,
  mrOwnerConfig: 48,
  mrSeam: 48,
  mrServiceTd: 48,
};
const ALIASES: Readonly<Record<string, string>> = {
  mr_enclave: "mrEnclave",
  mr_signer: "mrSigner",
  isv_prod_id: "isvProdId",
  min_isv_svn: "minIsvSvn",
  mr_td: "mrTd",
  allow_debug: "allowDebug",
  tcb_statuses: "tcbStatuses",
  advisory_ids: "advisoryIds",
};
const OTHER_FIELDS = new Set([
  "id",
  "description",
  "tee",
  "platforms",
  "allowDebug",
  "tcbStatuses",
  "advisoryIds",
  "isvProdId",
  "minIsvSvn",
  "requireSeptVeDisable",
]);

/**
 * Parses one policy from JSON text.
 * @throws ERR_POLICY_INVALID listing every problem in `detail.problems`
 */
export function parsePolicy(text: string, source: string): Policy {
  return policyFromObject(parseJson(text, source), source);
}

/**
 * Parses a policy set: an array of policies, `{ "policies": [...] }`, or one policy.
 * @throws ERR_POLICY_INVALID
 */
export function parsePolicySet(text: string, source: string): Policy[] {
  return policySetFromObject(parseJson(text, source), source);
}

/** A policy set from an already parsed document (e.g. YAML). @throws ERR_POLICY_INVALID */
export function policySetFromObject(value: unknown, source: string): Policy[] {
  const policies = policyListOf(value).map((p, i) => policyFromObject(p, `${source}[${i}]`));
  const ids = new Set<string>();
  for (const p of policies) {
    if (ids.has(p.id)) invalid(source, [`$: policy id "${p.id}" appears twice`]);
    ids.add(p.id);
  }
  return policies;
}

/**
 * The policies of a policy-set document: an array, `{ "policies": [...] }`, or one policy.
 * The items are not validated.
 */
export function policyListOf(value: unknown): readonly unknown[] {
  return Array.isArray(value)
    ? value
    : isObject(value) && Array.isArray(value.policies)
      ? value.policies
      : [value];
}

/**
 * Validates a parsed policy document that holds appraisal rules only.
 * @throws ERR_POLICY_INVALID listing every problem with its path
 */
export function policyFromObject(value: unknown, source: string): Policy {
  const r = readPolicyDocument(value, source);
  if (r.problems.length > 0) invalid(source, r.problems);
  return r.policy;
}

/** Options of {@link readPolicyDocument}. */
export interface PolicyReadOptions {
  /**
   * Fields (with their aliases) that grant rather than constrain, e.g. a service's `secrets` and
   * `keys`: their raw values are returned in `grants` for the caller to validate. Any other field
   * this module does not know is a problem ("unknown field"), so a misspelt rule never passes.
   */
  readonly grantFields?: ReadonlySet<string>;
}

/** A policy document read for appraisal: the policy, the raw grant fields, and every problem. */
export interface PolicyReading {
  readonly policy: Policy;
  /** Raw values of the fields named in `grantFields`, by the name the document used. */
  readonly grants: Readonly<Record<string, unknown>>;
  /** Problems, each starting with its JSON path; the policy is usable only when there is none. */
  readonly problems: readonly string[];
}

/**
 * Reads a parsed policy document without throwing on its problems, so that a service can list the
 * problems of its grant fields together with these.
 */
export function readPolicyDocument(
  value: unknown,
  source: string,
  options: PolicyReadOptions = {},
): PolicyReading {
  const problems: string[] = [];
  const grants: Record<string, unknown> = {};
  if (!isObject(value)) invalid(source, ["$: a policy is a JSON object"]);
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const name = ALIASES[k] ?? k;
    if (options.grantFields?.has(k) === true) grants[k] = v;
    else if (!OTHER_FIELDS.has(name) && !(name in MEASUREMENTS)) problems.push(`$.${k}: unknown field`);
    else if (name in o) problems.push(`$.${k}: given twice (also as an alias)`);
    else o[name] = v;
  }
  const id = o.id;
  if (typeof id !== "string" || id.length === 0 || id.length > 200)
    problems.push("$.id: a non-empty string is required");
  const tee = enumList(o.tee, ["sgx", "tdx"] as const, "$.tee", problems) ?? ["sgx", "tdx"];
  const platforms = enumList(o.platforms, ["hardware", "simulated"] as const, "$.platforms", problems) ?? [
    "hardware",
  ];
  const tcbStatuses = tcbStatusList(o.tcbStatuses, problems) ?? ["UpToDate"];
  const allowDebug = bool(o.allowDebug, "$.allowDebug", problems);
  const requireSeptVeDisable = bool(o.requireSeptVeDisable, "$.requireSeptVeDisable", problems);
  const advisoryIds = stringList(o.advisoryIds, "$.advisoryIds", problems);
  const isvProdId = intList(o.isvProdId, 0xffff, "$.isvProdId", problems);
  const minIsvSvn = o.minIsvSvn === undefined ? undefined : int(o.minIsvSvn, 0xffff, "$.minIsvSvn", problems);
  const measurements: Record<string, Uint8Array[]> = {};
  for (const [name, bytes] of Object.entries(MEASUREMENTS)) {
    const list = hexList(o[name], bytes, `$.${name}`, problems);
    if (list !== undefined) measurements[name] = list;
  }
  const policy: Policy = {
    id: typeof id === "string" ? id : "",
    tee,
    platforms,
    allowDebug,
    tcbStatuses,
    requireSeptVeDisable,
    ...(advisoryIds === undefined ? {} : { advisoryIds }),
    ...(isvProdId === undefined ? {} : { isvProdId }),
    ...(minIsvSvn === undefined ? {} : { minIsvSvn }),
    ...measurements,
  };
  return { policy, grants, problems };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new KeywardError("ERR_POLICY_INVALID", `${source}: not valid JSON`, {
      cause,
      detail: { source, problems: ["$: not valid JSON"] },
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function list(v: unknown, path: string, problems: string[]): unknown[] | undefined {
  if (v === undefined) return undefined;
  const items = Array.isArray(v) ? v : [v]; // a single value stands for a list of one (seed format)
  if (items.length === 0 || items.length > 1024) {
    problems.push(`${path}: a list of 1 to 1024 values`);
    return undefined;
  }
  return items;
}

function enumList<T extends string>(
  v: unknown,
  allowed: readonly T[],
  path: string,
  problems: string[],
): T[] | undefined {
  const items = list(v, path, problems);
  if (items === undefined) return undefined;
  const out: T[] = [];
  items.forEach((item, i) => {
    const match = allowed.find((a) => a === item);
    if (match === undefined)
      problems.push(`${path}[${i}]: "${String(item)}" is not one of ${allowed.join(", ")}`);
    else out.push(match);
  });
  return out;
}

// "Revoked" gets its own message: it is a status Intel's collateral names, but a terminal one, so
// a policy listing it would promise something verification never delivers.
function tcbStatusList(v: unknown, problems: string[]): TcbStatus[] | undefined {
  const items = list(v, "$.tcbStatuses", problems);
  if (items === undefined) return undefined;
  const out: TcbStatus[] = [];
  items.forEach((item, i) => {
    const match = TCB_STATUSES.find((s) => s === item);
    if (match !== undefined) out.push(match);
    else if (item === "Revoked") {
      problems.push(
        `$.tcbStatuses[${i}]: "Revoked" is terminal and cannot be accepted: a revoked platform, QE or TDX module TCB level fails verification (ERR_DCAP_TCB_REVOKED, ERR_DCAP_QE_TCB_REVOKED, ERR_DCAP_TDX_MODULE_REVOKED)`,
      );
    } else {
      problems.push(`$.tcbStatuses[${i}]: "${String(item)}" is not one of ${TCB_STATUSES.join(", ")}`);
    }
  });
  return out;
}

function hexList(v: unknown, bytes: number, path: string, problems: string[]): Uint8Array[] | undefined {
  const items = list(v, path, problems);
  if (items === undefined) return undefined;
  const out: Uint8Array[] = [];
  items.forEach((item, i) => {
    if (typeof item !== "string" || !new RegExp(`^(0x)?[0-9a-fA-F]{${bytes * 2}}$`).test(item)) {
      problems.push(`${path}[${i}]: ${bytes} bytes of hex (${bytes * 2} digits) expected`);
    } else {
      out.push(fromHex(item));
    }
  });
  return out;
}

function stringList(v: unknown, path: string, problems: string[]): string[] | undefined {
  const items = list(v, path, problems);
  if (items === undefined) return undefined;
  items.forEach((item, i) => {
    if (typeof item !== "string" || item.length === 0) problems.push(`${path}[${i}]: a non-empty string`);
  });
  return items.filter((i): i is string => typeof i === "string");
}

function intList(v: unknown, max: number, path: string, problems: string[]): number[] | undefined {
  const items = list(v, path, problems);
  if (items === undefined) return undefined;
  return items.map((item, i) => int(item, max, `${path}[${i}]`, problems));
}

function int(v: unknown, max: number, path: string, problems: string[]): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    problems.push(`${path}: an integer in 0..${max}`);
    return 0;
  }
  return v;
}

function bool(v: unknown, path: string, problems: string[]): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") problems.push(`${path}: true or false`);
  return v === true;
}

function invalid(source: string, problems: readonly string[]): never {
  throw new KeywardError("ERR_POLICY_INVALID", `${source}: ${problems.join("; ")}`, {
    detail: { source, problems },
  });
}
