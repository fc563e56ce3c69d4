/**
 * Metrics the kernel takes around the parts it composes, so that no engine, verifier or feature
 * has to: store operations that fail in the database, the audit queue and its commit latency,
 * evidence verification (cold and warm) by TEE, one-time-code refusals of admin step-up.
 *
 * @module
 */
import { isKeywardError } from "@keyward/attest/errors";
import type { VerifiedQuote } from "@keyward/attest/evidence";
import { extractRaTlsEvidence } from "@keyward/attest/ratls";
import { parseCertificate } from "@keyward/attest/x509";
import type { PeerVerification } from "@keyward/channels/tls";
import { type Metrics, secondsSince } from "../ops/metrics.ts";
import type { Store } from "../store/contract.ts";
import type { Sql } from "../store/sql.ts";
import type { AdminStepUp } from "./step-up.ts";

// A refusal the store decided (a KeywardError) is not a store error; a driver's error is.
function countFailure(metrics: Metrics, operation: string, e: unknown): void {
  if (!isKeywardError(e)) metrics.storeErrors.inc({ operation });
}

function observed<F extends (...args: never[]) => unknown>(
  f: F,
  self: object,
  operation: string,
  metrics: Metrics,
): F {
  return ((...args: Parameters<F>) => {
    try {
      const r = f.apply(self, args);
      if (r instanceof Promise)
        return r.catch((e: unknown) => {
          countFailure(metrics, operation, e);
          throw e;
        });
      return r;
    } catch (e) {
      countFailure(metrics, operation, e);
      throw e;
    }
  }) as F;
}

function observeSql(sql: Sql, metrics: Metrics): Sql {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || typeof prop !== "string" || prop === "close") return v;
      return observed(v as (...args: never[]) => unknown, target, `sql.${prop}`, metrics);
    },
  });
}

/**
 * `store` with every failing operation counted (`keyward_store_errors_total{operation}`), and
 * `appendAudit` measured: entries waiting for their commit (`keyward_audit_queue_depth`) and the
 * time to it (`keyward_audit_commit_duration_seconds`).
 */
export function observeStore(store: Store, metrics: Metrics): Store {
  const sql = observeSql(store.sql, metrics);
  const appendAudit: Store["appendAudit"] = async (event) => {
    const started = process.hrtime.bigint();
    metrics.auditQueueDepth.inc();
    try {
      return await store.appendAudit(event);
    } catch (e) {
      countFailure(metrics, "appendAudit", e);
      throw e;
    } finally {
      metrics.auditQueueDepth.dec();
      metrics.auditCommitDuration.observe(secondsSince(started));
    }
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "sql") return sql;
      if (prop === "appendAudit") return appendAudit;
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || typeof prop !== "string" || prop === "close") return v;
      return observed(v as (...args: never[]) => unknown, target, prop, metrics);
    },
  });
}

/** The TEE of verified evidence (`sgx`, `tdx`), for labels. */
function teeOf(verified: VerifiedQuote | undefined): string {
  return verified?.claims.tee ?? "unknown";
}

// The TEE a quote's header names (offset 4, TEE type: 0 SGX, 0x81 TDX), for refused evidence.
function teeOfQuote(quote: Uint8Array): string {
  return quote[4] === 0x81 ? "tdx" : quote[4] === 0x00 && quote.byteLength > 48 ? "sgx" : "unknown";
}

// The TEE of a refused RA-TLS certificate's quote, when the certificate can be read at all.
function teeOfCertificate(der: Uint8Array): string {
  try {
    return teeOfQuote(extractRaTlsEvidence(parseCertificate(der)).quote);
  } catch {
    return "unknown";
  }
}

/** Records a peer verification of the service listener's cache (cold or warm). */
export function peerVerificationObserver(metrics: Metrics): (event: PeerVerification) => void {
  return (e) =>
    metrics.attestationDuration.observe(
      {
        tee: e.verdict === undefined ? teeOfCertificate(e.der) : teeOf(e.verdict.verified),
        cache: e.cached ? "warm" : "cold",
        result: e.error === undefined ? "verified" : "refused",
      },
      e.seconds,
    );
}

/** `verifyQuote` (bare quotes: the challenge path, KBS) timed as cold verifications. */
export function observeQuoteVerification(
  verify: (quote: Uint8Array, at: Date) => VerifiedQuote | Promise<VerifiedQuote>,
  metrics: Metrics,
): (quote: Uint8Array, at: Date) => Promise<VerifiedQuote> {
  return async (quote, at) => {
    const started = process.hrtime.bigint();
    try {
      const verified = await verify(quote, at);
      metrics.attestationDuration.observe(
        { tee: teeOf(verified), cache: "cold", result: "verified" },
        secondsSince(started),
      );
      return verified;
    } catch (e) {
      metrics.attestationDuration.observe(
        { tee: teeOfQuote(quote), cache: "cold", result: "refused" },
        secondsSince(started),
      );
      throw e;
    }
  };
}

/** Admin step-up with its one-time-code refusals counted as the gate counts its own. */
export function observeStepUp(stepUp: AdminStepUp, metrics: Metrics): AdminStepUp {
  return async (call) => {
    try {
      return await stepUp(call);
    } catch (e) {
      if (isKeywardError(e) && e.code.startsWith("ERR_OTP_")) {
        metrics.otpFailures.inc({ reason: otpReason(e.code) });
        if (e.code === "ERR_OTP_LOCKED") metrics.otpLockouts.inc();
      }
      throw e;
    }
  };
}

/** `ERR_OTP_ACCOUNT_NOT_FOUND` → `account-not-found`: a bounded label. */
export function otpReason(code: string): string {
  return code.slice("ERR_OTP_".length).toLowerCase().replaceAll("_", "-");
}
