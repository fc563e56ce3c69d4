/**
 * The service's Prometheus metrics (prom-client, one registry per running service), served by the
 * ops listener (health.ts) at `/metrics`. Names follow Prometheus conventions: `keyward_` prefix,
 * base units in the name (`_seconds`), counters end in `_total`. Labels hold only bounded values
 * (methods, decisions, TEE kinds, error codes) — never a subject, a name asked for or a secret.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | keyward_requests_total | counter | method, decision (allowed, denied, error, ok), tee |
 * | keyward_request_duration_seconds | histogram | method |
 * | keyward_gate_decisions_total | counter | action, outcome, tee |
 * | keyward_attestation_verification_duration_seconds | histogram | tee, cache (cold, warm), result |
 * | keyward_collateral_cache_requests_total | counter | result (hit, miss) |
 * | keyward_collateral_fetch_errors_total | counter | code |
 * | keyward_audit_queue_depth | gauge | |
 * | keyward_audit_commit_duration_seconds | histogram | |
 * | keyward_store_errors_total | counter | operation |
 * | keyward_otp_failures_total | counter | reason |
 * | keyward_otp_lockouts_total | counter | |
 * | process_*, nodejs_* | prom-client's default process metrics | |
 *
 * Features may add counters of their own with {@link Metrics.inc}.
 *
 * @module
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

// Request latency spans a warm lookup (~0.1 ms) to a cold attestation with a collateral fetch
// (seconds): buckets from 100 µs to 10 s.
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The service's metrics: the kernel's instruments and features' counters, in one registry. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry: Registry = new Registry();
  /** RPC requests by method, decision and the caller's TEE (`none` when it presented no evidence). */
  readonly requests: Counter<"method" | "decision" | "tee">;
  /** RPC latency by method, seconds (receipt of the request to its response). */
  readonly requestDuration: Histogram<"method">;
  /** Gate decisions by action, outcome (allowed, denied, error) and TEE. */
  readonly gateDecisions: Counter<"action" | "outcome" | "tee">;
  /** Evidence verification, seconds: `cold` ran the verifier, `warm` was answered by the cache. */
  readonly attestationDuration: Histogram<"tee" | "cache" | "result">;
  /** Collateral lookups answered from the cache (`hit`) or fetched (`miss`). */
  readonly collateralCache: Counter<"result">;
  /** Collateral fetches that failed, by error code. */
  readonly collateralFetchErrors: Counter<"code">;
  /** Audit entries appended but not yet committed. */
  readonly auditQueueDepth: Gauge;
  /** From an audit append to its commit, seconds. */
  readonly auditCommitDuration: Histogram;
  /** Store operations that failed (the database, not a refusal), by operation. */
  readonly storeErrors: Counter<"operation">;
  /** One-time codes refused, by reason (invalid, replayed, required, locked, …). */
  readonly otpFailures: Counter<"reason">;
  /** One-time codes refused because the account or the client address is locked out. */
  readonly otpLockouts: Counter;
  readonly #extra = new Map<string, Counter<string>>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "keyward_requests_total",
      help: "RPC requests by method, decision and the caller's TEE.",
      labelNames: ["method", "decision", "tee"],
      registers,
    });
    this.requestDuration = new Histogram({
      name: "keyward_request_duration_seconds",
      help: "RPC latency by method, from receipt to response.",
      labelNames: ["method"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.gateDecisions = new Counter({
      name: "keyward_gate_decisions_total",
      help: "Release-gate decisions by action, outcome and the caller's TEE.",
      labelNames: ["action", "outcome", "tee"],
      registers,
    });
    this.attestationDuration = new Histogram({
      name: "keyward_attestation_verification_duration_seconds",
      help: "Evidence verification time by TEE; cache=cold ran the verifier, warm was a cached verdict.",
      labelNames: ["tee", "cache", "result"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.collateralCache = new Counter({
      name: "keyward_collateral_cache_requests_total",
      help: "Collateral lookups by result: hit (cached, still valid) or miss (fetched).",
      labelNames: ["result"],
      registers,
    });
    this.collateralFetchErrors = new Counter({
      name: "keyward_collateral_fetch_errors_total",
      help: "Collateral fetches from the PCS or PCCS that failed, by error code.",
      labelNames: ["code"],
      registers,
    });
    this.auditQueueDepth = new Gauge({
      name: "keyward_audit_queue_depth",
      help: "Audit entries appended and not yet committed.",
      registers,
    });
    this.auditCommitDuration = new Histogram({
      name: "keyward_audit_commit_duration_seconds",
      help: "Time from an audit append to its commit (group commit included).",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.storeErrors = new Counter({
      name: "keyward_store_errors_total",
      help: "Store operations that failed in the database, by operation.",
      labelNames: ["operation"],
      registers,
    });
    this.otpFailures = new Counter({
      name: "keyward_otp_failures_total",
      help: "One-time codes refused, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.otpLockouts = new Counter({
      name: "keyward_otp_lockouts_total",
      help: "One-time codes refused because the account or client address is locked out.",
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Adds one to a feature's counter `name` (created on first use, with the label names of that
   * first call and `help`). `name` must be a Prometheus name ending in `_total`.
   */
  inc(name: string, labels: Readonly<Record<string, string>> = {}, help = ""): void {
    let counter = this.#extra.get(name);
    if (counter === undefined) {
      counter = new Counter({
        name,
        help: help === "" ? name : help,
        labelNames: Object.keys(labels).sort(),
        registers: [this.registry],
      });
      this.#extra.set(name, counter);
    }
    counter.inc(labels);
  }

  /** The exposition text (format 0.0.4) of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Seconds since `started` (from `process.hrtime.bigint()`). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
