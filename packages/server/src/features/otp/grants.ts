/**
 * The OTP feature's policy grants:
 *
 * - `otpEnrollment: ["NAME", …]` — an app this policy accepts may enroll these accounts once
 *   (receive the account's secret and issuer; `otpqr`).
 * - `otpRequired: [{ account, actions?, names? }, …]` — before a release or key operation this
 *   policy allows, the request must carry a fresh code of `account` (the gate's second-factor
 *   step). `actions` (e.g. `kms.sign`, `secrets.get`) and `names` (key ids, secret names) narrow
 *   the rule; absent, it applies to every action or name. The first rule that applies names the
 *   account.
 *
 * @module
 */
import type { GrantDecision } from "../../kernel/gate.ts";
import { defineGrant, grantOf, type ServicePolicy } from "../../kernel/grants.ts";
import { ACCOUNT_NAME } from "./names.ts";

/** `otpEnrollment`: account names. */
export const OTP_ENROLLMENT = defineGrant<readonly string[]>({
  field: "otpEnrollment",
  absent: [],
  parse(raw, path, problems) {
    if (!Array.isArray(raw) || raw.length > 1024) {
      problems.push(`${path}: a list of at most 1024 OTP account names`);
      return [];
    }
    const out: string[] = [];
    raw.forEach((v, i) => {
      if (typeof v !== "string" || !ACCOUNT_NAME.test(v))
        problems.push(`${path}[${i}]: an OTP account name (1-64 of [A-Za-z0-9_.@-])`);
      else out.push(v);
    });
    return out;
  },
});

/** One `otpRequired` rule. */
export interface OtpRequirement {
  readonly account: string;
  /** Gate actions it applies to (`kms.sign`, `secrets.get`, …); undefined: all. */
  readonly actions?: readonly string[];
  /** Names (key ids, secret names) it applies to; undefined: all. */
  readonly names?: readonly string[];
}

const ACTION = /^[a-z][a-z0-9-]*\.[A-Za-z][A-Za-z0-9.-]*$/;

function stringList(raw: unknown, path: string, problems: string[], ok: (s: string) => boolean) {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 256) {
    problems.push(`${path}: a list of 1 to 256 strings`);
    return undefined;
  }
  const out: string[] = [];
  raw.forEach((v, i) => {
    if (typeof v !== "string" || !ok(v)) problems.push(`${path}[${i}]: "${String(v)}" is not valid here`);
    else out.push(v);
  });
  return out;
}

/** `otpRequired`: rules naming the account whose code a release needs. */
export const OTP_REQUIRED = defineGrant<readonly OtpRequirement[]>({
  field: "otpRequired",
  absent: [],
  parse(raw, path, problems) {
    if (!Array.isArray(raw) || raw.length > 256) {
      problems.push(`${path}: a list of at most 256 rules { account, actions?, names? }`);
      return [];
    }
    const out: OtpRequirement[] = [];
    raw.forEach((rule, i) => {
      const at = `${path}[${i}]`;
      if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
        problems.push(`${at}: an object { account, actions?, names? }`);
        return;
      }
      const r = rule as Record<string, unknown>;
      for (const k of Object.keys(r))
        if (!["account", "actions", "names"].includes(k)) problems.push(`${at}.${k}: unknown field`);
      if (typeof r.account !== "string" || !ACCOUNT_NAME.test(r.account)) {
        problems.push(`${at}.account: an OTP account name`);
        return;
      }
      const actions =
        r.actions === undefined
          ? undefined
          : stringList(r.actions, `${at}.actions`, problems, (s) => ACTION.test(s));
      const names =
        r.names === undefined
          ? undefined
          : stringList(r.names, `${at}.names`, problems, (s) => s.length > 0 && s.length <= 256);
      out.push({
        account: r.account,
        ...(actions === undefined ? {} : { actions }),
        ...(names === undefined ? {} : { names }),
      });
    });
    return out;
  },
});

/** The account whose code `policy` requires before `action` on `names`, if any. */
export function requiredAccount(
  policy: ServicePolicy,
  action: string,
  names: readonly string[],
): string | undefined {
  for (const rule of grantOf(policy, OTP_REQUIRED)) {
    if (rule.actions !== undefined && !rule.actions.includes(action)) continue;
    if (rule.names !== undefined && !names.some((n) => rule.names?.includes(n))) continue;
    return rule.account;
  }
  return undefined;
}

/** The grant step of an enrollment: the one account asked for must be in `otpEnrollment`. */
export function grantEnrollment(policy: ServicePolicy, names: readonly string[]): GrantDecision {
  const allowed = grantOf(policy, OTP_ENROLLMENT);
  return { names, refused: names.filter((n) => !allowed.includes(n)) };
}
