/**
 * The release gate: the only path by which anything leaves the service. Every release — secrets
 * over mutual RA-TLS, secrets on the challenge path, every KMS operation, and whatever a feature
 * adds — goes
 *
 *   authenticated caller → limits → appraise → grant → second factor → act → audit → respond
 *
 * here, so the limits, the audit fields, the metrics and the errors are written once. The audit
 * entry is committed before the response leaves: an un-audited release never happens.
 *
 * Audit entries the gate writes (never a secret value, key or token):
 * - action: the request's (`secrets.get`, `kms.sign`, …); subject: the caller (`anonymous` when
 *   none); policyId: the accepting policy, when one accepted;
 * - outcome `allowed` (released), `denied` (refused by a rule), or `error` (the act failed);
 * - detail: `via` (how the caller authenticated), `code` (when not allowed), `names` (what was
 *   asked for and granted, or refused), `policies` (each policy's failed rules, when none
 *   accepted), `claims` (the caller's verified claims record, for Explain), `otp` (the account
 *   and accepted time step, when the policy required a one-time code; never the code).
 *
 * @module
 */
import { appraiseAgainstSet } from "@keyward/attest/appraisal";
import { type ErrorCode, isKeywardError, KeywardError } from "@keyward/attest/errors";
import { claimsRecord } from "@keyward/attest/evidence";
import type { AuditEvent, AuditValue } from "../audit/chain.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { ServicePolicy } from "./grants.ts";
import { checkRequestNames } from "./limits.ts";
import { otpReason } from "./observe.ts";
import { callerFields, currentRequest, type RequestObserver } from "./requests.ts";
import {
  type AcceptedCode,
  OTP_HEADER,
  type PresentedCode,
  presentedCodeOf,
  type SecondFactor,
} from "./second-factor.ts";
import type { Caller } from "./subject.ts";

/** What a policy grants of the names asked for. */
export interface GrantDecision {
  /** The names to act on (all asked for, or — when none was named — all the policy grants). */
  readonly names: readonly string[];
  /** Names the policy does not grant: any makes the request denied. */
  readonly refused: readonly string[];
  /** Why, when refused for a reason other than "not granted" (the refusal's message). */
  readonly reason?: string;
}

/**
 * Where a request came from, as its listener saw it: the request headers (which may carry a
 * one-time code, `keyward-otp: ACCOUNT:CODE`), the client's address, or a code the feature read
 * from its own message. An RPC `Call` is one.
 */
export interface RequestOrigin {
  readonly headers?: Headers | undefined;
  readonly clientAddress?: string | undefined;
  readonly otp?: PresentedCode | undefined;
}

/** One release through the gate. */
export interface GateRequest<T> {
  /** The audit action, `<feature>.<verb>` (e.g. `secrets.get`, `kms.sign`). */
  readonly action: string;
  /** The authenticated caller, or undefined when it presented no verified evidence. */
  readonly caller: Caller | undefined;
  /** What is asked for (secret names, a key id): held to the limits before anything else. */
  readonly names: readonly string[];
  /** The grant step: what the accepting policy grants of `names`. */
  grant(policy: ServicePolicy, names: readonly string[]): GrantDecision;
  /** The act: runs only when granted, before the allowing entry is audited. */
  act(policy: ServicePolicy, names: readonly string[]): Promise<T>;
  /** Where it came from: a one-time code the policy may require, the client's address. */
  readonly origin?: RequestOrigin | undefined;
}

/** The outcome of a release. */
export interface Released<T> {
  readonly policyId: string;
  readonly names: readonly string[];
  readonly result: T;
}

/** The gate, bound to the policies in force, the audit log, metrics and logs. */
export interface Gate {
  /**
   * Runs `request` through every step.
   * @throws ERR_SERVICE_NOT_ATTESTED, ERR_SERVICE_REQUEST_INVALID, ERR_SERVICE_DENIED, the second
   * factor's (ERR_OTP_REQUIRED, ERR_OTP_INVALID, ERR_OTP_REPLAYED, ERR_OTP_LOCKED, …), or the act's error
   */
  release<T>(request: GateRequest<T>): Promise<Released<T>>;
  /**
   * The appraisal step alone, audited like a release refused there (`action` names what the
   * caller is being admitted to): a path that authenticates first and releases later (the
   * challenge path) refuses an unacceptable caller as early as it can, with the same entry.
   * @throws ERR_SERVICE_NOT_ATTESTED, ERR_SERVICE_DENIED
   */
  admit(action: string, caller: Caller | undefined): Promise<ServicePolicy>;
}

/** What the gate needs. */
export interface GateDeps {
  readonly policies: () => readonly ServicePolicy[];
  readonly appendAudit: (event: AuditEvent) => Promise<unknown>;
  readonly metrics?: Metrics;
  /** The second factor a policy may require (the OTP feature's, once started). */
  readonly secondFactor?: () => SecondFactor | undefined;
  /**
   * Writes the request's line and metrics when the gate runs outside an observed RPC (a
   * feature's own listener): then each release or admission is its own request.
   */
  readonly requests?: RequestObserver;
}

/** A gate over `deps`. */
export function createGate(deps: GateDeps): Gate {
  // Every decision: counted, noted in the request's record (for its one log line), audited.
  const audit = async (event: AuditEvent, caller: Caller | undefined) => {
    const fields = caller === undefined ? undefined : callerFields(caller);
    deps.metrics?.gateDecisions.inc({
      action: event.action,
      outcome: event.outcome,
      tee: fields?.tee ?? "none",
    });
    const r = currentRequest();
    if (r !== undefined) {
      r.action = event.action;
      if (event.outcome === "allowed" || event.outcome === "denied" || event.outcome === "error")
        r.decision = event.outcome;
      if (fields !== undefined) r.caller = fields;
      if (event.policyId !== undefined) r.policy = event.policyId;
      const code = event.detail?.code;
      if (typeof code === "string") r.code = code;
    }
    await deps.appendAudit(event);
  };

  // Outside an observed request (a feature's own listener), the gate's step is the request.
  const observed = <T>(action: string, run: () => Promise<T>): Promise<T> =>
    deps.requests === undefined || currentRequest() !== undefined
      ? run()
      : deps.requests.observe({ listener: "gate", method: action }, run);

  async function refuse(
    action: string,
    caller: Caller | undefined,
    code: ErrorCode,
    message: string,
    detail: Readonly<Record<string, AuditValue>>,
    policyId?: string,
    cause?: KeywardError,
  ): Promise<never> {
    await audit(
      {
        action,
        outcome: "denied",
        subject: caller?.subject ?? "anonymous",
        ...(policyId === undefined ? {} : { policyId }),
        detail: { ...(caller === undefined ? {} : { via: caller.via }), code, ...detail },
      },
      caller,
    );
    if (code.startsWith("ERR_OTP_")) {
      deps.metrics?.otpFailures.inc({ reason: otpReason(code) });
      if (code === "ERR_OTP_LOCKED") deps.metrics?.otpLockouts.inc();
    }
    throw cause ?? new KeywardError(code, message);
  }

  // The second-factor step: after the grant (a denied request never burns a code), before the act.
  async function secondFactor(
    request: GateRequest<unknown>,
    policy: ServicePolicy,
    names: readonly string[],
    claims: AuditValue,
  ): Promise<AcceptedCode | undefined> {
    const { action, caller } = request;
    const factor = deps.secondFactor?.();
    const account = factor?.required(policy, action, names);
    if (account === undefined || factor === undefined) return undefined;
    const refuseWith = (e: KeywardError) =>
      refuse(
        action,
        caller,
        e.code,
        e.message,
        { otpAccount: account, names: [...names], claims },
        policy.id,
        e,
      );
    try {
      const presented = request.origin?.otp ?? presentedCodeOf(request.origin?.headers);
      if (presented === undefined || presented.account !== account)
        throw new KeywardError(
          "ERR_OTP_REQUIRED",
          `policy ${policy.id} requires a one-time code from account ${account} (header ${OTP_HEADER}: ${account}:CODE)`,
          { detail: { account } },
        );
      return await factor.verify(presented, { action, clientAddress: request.origin?.clientAddress });
    } catch (e) {
      if (isKeywardError(e)) return refuseWith(e);
      throw e;
    }
  }

  async function admitted(action: string, caller: Caller | undefined, names?: readonly string[]) {
    if (caller === undefined)
      return refuse(
        action,
        undefined,
        "ERR_SERVICE_NOT_ATTESTED",
        "the caller presented no verified evidence",
        {},
      );
    if (names !== undefined) {
      try {
        checkRequestNames(names);
      } catch (e) {
        await refuse(action, caller, "ERR_SERVICE_REQUEST_INVALID", (e as Error).message, {
          requested: names.length,
        });
      }
    }
    const { accepted, appraisals } = appraiseAgainstSet(caller.verified, deps.policies());
    // The claims go into every entry, so that Explain can replay the decision later.
    const claims = claimsRecord(caller.verified) as unknown as AuditValue;
    if (accepted === undefined)
      return refuse(action, caller, "ERR_SERVICE_DENIED", "no policy accepts the caller's evidence", {
        policies: appraisals.map((a) => `${a.policyId}:${a.failed.map((f) => f.rule).join("+")}`),
        claims,
      });
    return { policy: accepted, claims };
  }

  return {
    admit(action, caller) {
      return observed(action, async () => (await admitted(action, caller)).policy);
    },
    release<T>(request: GateRequest<T>): Promise<Released<T>> {
      return observed(request.action, () => release(request));
    },
  };

  async function release<T>(request: GateRequest<T>): Promise<Released<T>> {
    const { action, caller } = request;
    const { policy, claims } = await admitted(action, caller, request.names);
    const subject = (caller as Caller).subject;
    const via = (caller as Caller).via;
    const decision = request.grant(policy, request.names);
    const { names, refused } = decision;
    if (refused.length > 0)
      await refuse(
        action,
        caller,
        "ERR_SERVICE_DENIED",
        decision.reason ?? `policy ${policy.id} grants no such ${refused.length === 1 ? "name" : "names"}`,
        { names: [...refused], claims },
        policy.id,
      );
    const accepted = await secondFactor(request as GateRequest<unknown>, policy, names, claims);
    const otp = accepted === undefined ? {} : { otp: { account: accepted.account, step: accepted.step } };
    let result: T;
    try {
      result = await request.act(policy, names);
    } catch (e) {
      const code: ErrorCode = isKeywardError(e) ? e.code : "ERR_INTERNAL";
      await audit(
        {
          action,
          outcome: "error",
          subject,
          policyId: policy.id,
          detail: { via, code, names: [...names], ...otp, claims },
        },
        caller,
      );
      throw e;
    }
    // Audited before the response is sent: an un-audited release never leaves the service.
    await audit(
      {
        action,
        outcome: "allowed",
        subject,
        policyId: policy.id,
        detail: { via, names: [...names], ...otp, claims },
      },
      caller,
    );
    return { policyId: policy.id, names, result };
  }
}
