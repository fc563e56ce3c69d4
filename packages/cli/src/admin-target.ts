/**
 * Where an `keyward admin …` command acts: a running service's Admin listener (`--admin HOST:PORT`
 * or KEYWARD_ADMIN_ADDR, over mutual TLS with the operator's certificate from `keyward admin init`),
 * or, without it, the store named by the service flags directly (a stopped service, or bootstrap).
 * Both offer the same operations, so each command is written once.
 *
 * @module
 */
import type { Appraisal } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import type { AuditEntry, ChainVerdict, ExplainSubject, OtpAccount } from "@keyward/server/admin";
import { usageError } from "./args.ts";
import { adminAddressFromEnv, dataDir } from "./config.ts";
import { canPrompt, promptLine } from "./prompt.ts";
import { serviceConfigFrom } from "./service-flags.ts";
import type { ADMIN } from "./specs/common.ts";

export interface PolicyListing {
  readonly id: string;
  readonly source: string;
  readonly version: number;
  readonly document: string;
}

export interface ExplainResult {
  readonly claims: unknown;
  readonly appraisals: readonly Pick<Appraisal, "policyId" | "accepted" | "results">[];
  readonly acceptedPolicyId?: string;
}

/** What creating an OTP account takes. */
export interface NewOtpAccount {
  readonly name: string;
  readonly issuer: string;
  readonly roles: readonly string[];
  readonly algorithm?: string;
  readonly digits?: number;
  readonly period?: number;
}

/** An accepted one-time code: the account and the TOTP time step now used. */
export interface AcceptedOtp {
  readonly account: string;
  readonly timeStep: number;
}

/** The operations, wherever they run. */
export interface AdminTarget {
  readonly where: string;
  putSecret(name: string, value: Uint8Array): Promise<{ version: number }>;
  deleteSecret(name: string): Promise<{ existed: boolean }>;
  listSecrets(): Promise<readonly { name: string; version: number }[]>;
  createKey(keyId: string, algorithm: string): Promise<{ version: number }>;
  putPolicy(document: string, format: string): Promise<{ id: string; version: number }>;
  deletePolicy(id: string): Promise<{ existed: boolean }>;
  listPolicies(): Promise<readonly PolicyListing[]>;
  explain(subject: ExplainSubject, policyId: string): Promise<ExplainResult>;
  readAudit(fromSeq: number, limit: number): Promise<readonly AuditEntry[]>;
  /**
   * The whole chain, streamed to the log's head (constant memory). `expectHead`: a head recorded
   * earlier that must be in the chain. `onProgress` (local only) hears entries checked so far.
   */
  verifyAudit(options?: {
    readonly expectHead?: string;
    readonly onProgress?: (checked: number, total: number) => void;
  }): Promise<ChainVerdict & { readonly expectedHeadFound?: boolean }>;
  createOtpAccount(account: NewOtpAccount): Promise<OtpAccount>;
  listOtpAccounts(): Promise<readonly OtpAccount[]>;
  disableOtpAccount(name: string): Promise<OtpAccount>;
  enableOtpAccount(name: string): Promise<OtpAccount>;
  reenrollOtpAccount(name: string): Promise<OtpAccount>;
  verifyOtp(account: string, code: string): Promise<AcceptedOtp>;
  close(): Promise<void>;
}

/** The request header that carries a step-up code (the service's `keyward-otp`). */
const OTP_HEADER = "keyward-otp";
const PRESENTED = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}:[0-9]{6,8}$/;

/** `--otp ACCOUNT:CODE`, checked without echoing it. @throws ERR_USAGE */
function otpFlag(value: string): string {
  if (!PRESENTED.test(value))
    throw new KeywardError(
      "ERR_USAGE",
      "--otp must be ACCOUNT:CODE (the account's name, a colon, then 6 to 8 digits)",
    );
  return value;
}

// The service asked for a step-up code: the account (echoed), then the code (not echoed).
async function askForCode(why: string): Promise<string> {
  process.stderr.write(`keyward: ${why}\n`);
  const account = (await promptLine("OTP account: ", { echo: true })).trim();
  const code = (await promptLine(`one-time code of ${account}: `, { echo: false })).trim();
  return otpFlag(`${account}:${code}`);
}

// An OTP account from the wire (empty strings for absent fields).
function otpAccountOf(a: {
  name: string;
  issuer: string;
  roles: string[];
  algorithm: string;
  digits: number;
  period: number;
  disabled: boolean;
  enrollment: string;
  enrolledAt: string;
  enrolledBy: string;
  failures: number;
  lockedUntil: string;
  createdAt: string;
  createdBy: string;
}): OtpAccount {
  return {
    name: a.name,
    issuer: a.issuer,
    roles: a.roles,
    algorithm: a.algorithm as OtpAccount["algorithm"],
    digits: a.digits,
    period: a.period,
    disabled: a.disabled,
    enrollment: a.enrollment === "used" ? "used" : "open",
    ...(a.enrolledAt === "" ? {} : { enrolledAt: a.enrolledAt }),
    ...(a.enrolledBy === "" ? {} : { enrolledBy: a.enrolledBy }),
    failures: a.failures,
    ...(a.lockedUntil === "" ? {} : { lockedUntil: a.lockedUntil }),
    createdAt: a.createdAt,
    createdBy: a.createdBy,
  };
}

/** The values of the {@link ADMIN} flags (a command's values may hold more). */
export type AdminValues = { readonly [K in keyof typeof ADMIN]?: string | boolean | undefined };

/** The target the flags name. */
export async function openAdminTarget(values: AdminValues): Promise<AdminTarget> {
  const address = (values.admin as string | undefined) ?? adminAddressFromEnv();
  return address === undefined ? local(values) : remote(values, address);
}

async function remote(values: AdminValues, address: string): Promise<AdminTarget> {
  const m = /^(.*):(\d{1,5})$/.exec(address);
  if (m === null) usageError(`--admin/KEYWARD_ADMIN_ADDR must be HOST:PORT, got "${address}"`);
  const { connectAdmin, connectOtpAdmin, fromConnectError, loadAdminClientCredentials } = await import(
    "@keyward/server/admin"
  );
  const credentials = loadAdminClientCredentials(
    dataDir(values["data-dir"] as string | undefined),
    (values["admin-client"] as string | undefined) ?? "admin",
  );
  const target = { host: (m[1] ?? "").replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  // Read at every call: a code asked for after a refusal goes with the retry.
  const headers: Record<string, string> = {};
  if (typeof values.otp === "string") headers[OTP_HEADER] = otpFlag(values.otp);
  const c = connectAdmin(credentials, target, headers);
  const o = connectOtpAdmin(credentials, target, headers);
  // Failures carry the service's Keyward code back, so exit codes match the local form. A change
  // the service wants stepped up is asked for once on a terminal, then retried with the code.
  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      const k = fromConnectError(e);
      if (k.code !== "ERR_ADMIN_STEP_UP_REQUIRED" || headers[OTP_HEADER] !== undefined || !canPrompt())
        throw k;
      headers[OTP_HEADER] = await askForCode(k.message);
      try {
        return await f();
      } catch (again) {
        throw fromConnectError(again);
      }
    }
  };
  return {
    where: `admin listener ${address}`,
    putSecret: (name, value) => call(async () => ({ version: (await c.putSecret({ name, value })).version })),
    deleteSecret: (name) => call(async () => ({ existed: (await c.deleteSecret({ name })).existed })),
    listSecrets: () =>
      call(async () => (await c.listSecrets({})).secrets.map(({ name, version }) => ({ name, version }))),
    createKey: (keyId, algorithm) =>
      call(async () => ({ version: (await c.createKey({ keyId, algorithm })).version })),
    putPolicy: (document, format) =>
      call(async () => {
        const { id, version } = await c.putPolicy({ document, format });
        return { id, version };
      }),
    deletePolicy: (id) => call(async () => ({ existed: (await c.deletePolicy({ id })).existed })),
    listPolicies: () =>
      call(async () =>
        (await c.listPolicies({})).policies.map(({ id, source, version, document }) => ({
          id,
          source,
          version,
          document,
        })),
      ),
    explain: (subject, policyId) =>
      call(async () => {
        const r = await c.explain({
          subject:
            "auditSeq" in subject
              ? { case: "auditSeq", value: BigInt(subject.auditSeq) }
              : { case: "evidence", value: subject.evidence },
          policyId,
        });
        return {
          claims: JSON.parse(r.claimsJson),
          appraisals: r.appraisals.map((a) => ({
            policyId: a.policyId,
            accepted: a.accepted,
            results: a.rules.map(({ rule, passed, expected, actual }) => ({
              rule,
              passed,
              expected,
              actual,
            })),
          })),
          ...(r.acceptedPolicyId === "" ? {} : { acceptedPolicyId: r.acceptedPolicyId }),
        };
      }),
    readAudit: (fromSeq, limit) =>
      call(async () =>
        (await c.readAudit({ fromSeq: BigInt(fromSeq), limit })).entries.map((e) => ({
          seq: Number(e.seq),
          at: e.at,
          action: e.action,
          outcome: e.outcome as AuditEntry["outcome"],
          subject: e.subject,
          ...(e.policyId === "" ? {} : { policyId: e.policyId }),
          ...(e.detailJson === "" ? {} : { detail: JSON.parse(e.detailJson) }),
          prevHash: e.prevHash,
          hash: e.hash,
        })),
      ),
    verifyAudit: (options = {}) =>
      call(async () => {
        const v = await c.verifyAudit({ expectHead: options.expectHead ?? "" });
        return {
          ...(options.expectHead === undefined ? {} : { expectedHeadFound: v.expectedHeadFound }),
          ok: v.ok,
          entries: Number(v.entries),
          head: v.head,
          ...(v.ok ? {} : { brokenAt: Number(v.brokenAt), problem: v.problem }),
        };
      }),
    createOtpAccount: (a) =>
      call(async () =>
        otpAccountOf(
          await o.createAccount({
            name: a.name,
            issuer: a.issuer,
            roles: [...a.roles],
            algorithm: a.algorithm ?? "",
            digits: a.digits ?? 0,
            period: a.period ?? 0,
          }),
        ),
      ),
    listOtpAccounts: () => call(async () => (await o.listAccounts({})).accounts.map(otpAccountOf)),
    disableOtpAccount: (name) => call(async () => otpAccountOf(await o.disableAccount({ name }))),
    enableOtpAccount: (name) => call(async () => otpAccountOf(await o.enableAccount({ name }))),
    reenrollOtpAccount: (name) => call(async () => otpAccountOf(await o.reenrollAccount({ name }))),
    verifyOtp: (account, code) =>
      call(async () => {
        const r = await o.verify({ account, code });
        return { account: r.account, timeStep: Number(r.timeStep) };
      }),
    close: async () => undefined,
  };
}

async function local(values: AdminValues): Promise<AdminTarget> {
  if (values.otp !== undefined)
    usageError(
      "--otp is for a service's Admin listener (--admin HOST:PORT): the local store is not stepped up",
    );
  const { openLocalAdmin } = await import("@keyward/server/admin");
  const { ops, otp, store, close } = await openLocalAdmin(await serviceConfigFrom(values));
  const subject = "admin:local-cli";
  return {
    where: `local store (${store.engine})`,
    putSecret: (name, value) => ops.putSecret(subject, name, value),
    deleteSecret: (name) => ops.deleteSecret(subject, name),
    listSecrets: () => ops.listSecrets(),
    createKey: (keyId, algorithm) => ops.createKey(subject, keyId, algorithm),
    putPolicy: (document, format) => ops.putPolicy(subject, document, format),
    deletePolicy: (id) => ops.deletePolicy(subject, id),
    listPolicies: async () => ops.listPolicies(),
    explain: (s, policyId) => ops.explain(s, policyId),
    readAudit: (fromSeq, limit) => ops.readAudit(fromSeq, limit),
    verifyAudit: (options) => ops.verifyAudit(options),
    createOtpAccount: (a) => otp.createAccount(subject, a),
    listOtpAccounts: () => otp.listAccounts(),
    disableOtpAccount: (name) => otp.disableAccount(subject, name),
    enableOtpAccount: (name) => otp.enableAccount(subject, name),
    reenrollOtpAccount: (name) => otp.reenrollAccount(subject, name),
    verifyOtp: async (account, code) => {
      const accepted = await otp.verify(subject, account, code);
      return { account: accepted.account, timeStep: accepted.step };
    },
    close,
  };
}
