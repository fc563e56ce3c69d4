/**
 * The release gate: the only path by which anything leaves the service. Every release — secrets
 * over mutual RA-TLS, secrets on the challenge path, every KMS operation, and whatever a feature
 * adds — goes
 *
 *   authenticated caller → limits → appraise → grant → act → audit → respond
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
 *   accepted), `claims` (the caller's verified claims record, for Explain).
 *
 * @module
 */
import { appraiseAgainstSet } from "@keyward/attest/appraisal";
import { type ErrorCode, isKeywardError, KeywardError } from "@keyward/attest/errors";
import { claimsRecord } from "@keyward/attest/evidence";
import type { AuditEvent, AuditValue } from "../audit/chain.ts";
import type { ServiceLogger } from "../ops/logs.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { ServicePolicy } from "./grants.ts";
import { checkRequestNames } from "./limits.ts";
import type { Caller } from "./subject.ts";

/** What a policy grants of the names asked for. */
export interface GrantDecision {
  /** The names to act on (all asked for, or — when none was named — all the policy grants). */
  readonly names: readonly string[];
  /** Names the policy does not grant: any makes the request denied. */
  readonly refused: readonly string[];
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
   * @throws ERR_SERVICE_NOT_ATTESTED, ERR_SERVICE_REQUEST_INVALID, ERR_SERVICE_DENIED, or the act's error
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
  readonly logger?: ServiceLogger;
}

/** A gate over `deps`. */
export function createGate(deps: GateDeps): Gate {
  const audit = async (event: AuditEvent) => {
    deps.metrics?.inc(
      "keyward_requests_total",
      { action: event.action, outcome: event.outcome },
      "Audited requests by action and outcome.",
    );
    await deps.appendAudit(event);
  };

  async function refuse(
    action: string,
    caller: Caller | undefined,
    code: ErrorCode,
    message: string,
    detail: Readonly<Record<string, AuditValue>>,
    policyId?: string,
  ): Promise<never> {
    await audit({
      action,
      outcome: "denied",
      subject: caller?.subject ?? "anonymous",
      ...(policyId === undefined ? {} : { policyId }),
      detail: { ...(caller === undefined ? {} : { via: caller.via }), code, ...detail },
    });
    deps.logger?.warn(
      { event: "gate.denied", action, subject: caller?.subject ?? "anonymous", code },
      message,
    );
    throw new KeywardError(code, message);
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
    async admit(action, caller) {
      return (await admitted(action, caller)).policy;
    },
    async release<T>(request: GateRequest<T>): Promise<Released<T>> {
      const { action, caller } = request;
      const { policy, claims } = await admitted(action, caller, request.names);
      const subject = (caller as Caller).subject;
      const via = (caller as Caller).via;
      const { names, refused } = request.grant(policy, request.names);
      if (refused.length > 0)
        await refuse(
          action,
          caller,
          "ERR_SERVICE_DENIED",
          `policy ${policy.id} grants no such ${refused.length === 1 ? "name" : "names"}`,
          { names: [...refused], claims },
          policy.id,
        );
      let result: T;
      try {
        result = await request.act(policy, names);
      } catch (e) {
        const code: ErrorCode = isKeywardError(e) ? e.code : "ERR_INTERNAL";
        await audit({
          action,
          outcome: "error",
          subject,
          policyId: policy.id,
          detail: { via, code, names: [...names], claims },
        });
        throw e;
      }
      // Audited before the response is sent: an un-audited release never leaves the service.
      await audit({
        action,
        outcome: "allowed",
        subject,
        policyId: policy.id,
        detail: { via, names: [...names], claims },
      });
      deps.logger?.info({ event: "gate.released", action, subject, policy: policy.id, names }, "released");
      return { policyId: policy.id, names, result };
    },
  };
}
