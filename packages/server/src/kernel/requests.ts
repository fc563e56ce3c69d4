/**
 * One log line and one set of metrics per request, written here once for every method of every
 * listener (rpc.ts wraps each method in {@link RequestObserver.observe}). While a request runs,
 * its record is the current one (AsyncLocalStorage): the gate notes the decision, the policy and
 * the caller in it, and the line is written when the response is ready.
 *
 * The line (`"event":"request"`, level info; warn when denied, error when the service failed):
 * `requestId` (the caller's `x-request-id` when it is a short token, else a fresh UUID),
 * `listener`, `method` (`keyward.v1.Secrets/GetSecrets`), `caller` (`tee`, `measurement` — the
 * MRENCLAVE or MRTD —, `via`) or `operator` (admin listener), `action`, `decision`, `policy`,
 * `code` (when refused or failed) and `latencyMs`. Never a secret, a key, a token, a one-time
 * code, a request body or the names asked for.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import type { ServiceLogger } from "../ops/logs.ts";
import { type Metrics, secondsSince } from "../ops/metrics.ts";
import type { Drain } from "./drain.ts";
import type { Caller } from "./subject.ts";

/** How a request ended: a gate decision, or (outside the gate) `ok` / `error`. */
export type Decision = "allowed" | "denied" | "error" | "ok";

/** What is known of the request in progress. */
export interface RequestRecord {
  readonly requestId: string;
  readonly listener: string;
  readonly method: string;
  readonly started: bigint;
  caller?: { readonly tee: string; readonly measurement: string; readonly via: string };
  operator?: string;
  action?: string;
  decision?: Exclude<Decision, "ok">;
  policy?: string;
  code?: string;
}

const current = new AsyncLocalStorage<RequestRecord>();

/** The record of the request being served, when there is one. */
export function currentRequest(): RequestRecord | undefined {
  return current.getStore();
}

/** The TEE and measurement of a caller: its subject is `sgx:<MRENCLAVE>` or `tdx:<MRTD>`. */
export function callerFields(caller: Caller): NonNullable<RequestRecord["caller"]> {
  const at = caller.subject.indexOf(":");
  return { tee: caller.subject.slice(0, at), measurement: caller.subject.slice(at + 1), via: caller.via };
}

// A request id the caller chose is kept only when it cannot carry anything but an id.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** What a listener knows when a request arrives. */
export interface RequestStart {
  readonly listener: string;
  readonly method: string;
  readonly headers?: Headers | undefined;
  readonly operator?: string | undefined;
}

/** Observes requests: the record, the log line, the metrics. */
export interface RequestObserver {
  /** Runs `run` as the request `start` describes; writes its line and metrics when it settles. */
  observe<T>(start: RequestStart, run: () => Promise<T>): Promise<T>;
  /** Writes the line of a record the gate completed outside any observed request. */
  finish(record: RequestRecord, error?: unknown): void;
}

/**
 * An observer writing to `logger` and `metrics`; with `drain`, it also admits each request (a
 * request arriving while the service drains is refused, before any work, with
 * ERR_SERVICE_SHUTTING_DOWN, and logged as such).
 */
export function requestObserver(logger: ServiceLogger, metrics: Metrics, drain?: Drain): RequestObserver {
  function finish(r: RequestRecord, error?: unknown): void {
    const code =
      r.code ?? (error === undefined ? undefined : isKeywardError(error) ? error.code : "ERR_INTERNAL");
    const decision: Decision = r.decision ?? (error === undefined ? "ok" : "error");
    const seconds = secondsSince(r.started);
    const tee = r.caller?.tee ?? "none";
    metrics.requests.inc({ method: r.method, decision, tee });
    metrics.requestDuration.observe({ method: r.method }, seconds);
    const line = {
      event: "request",
      requestId: r.requestId,
      listener: r.listener,
      method: r.method,
      ...(r.caller === undefined ? {} : { caller: r.caller }),
      ...(r.operator === undefined ? {} : { operator: r.operator }),
      ...(r.action === undefined ? {} : { action: r.action }),
      decision,
      ...(r.policy === undefined ? {} : { policy: r.policy }),
      ...(code === undefined ? {} : { code }),
      latencyMs: Math.round(seconds * 1e6) / 1e3,
    };
    if (decision === "error" && (code === "ERR_INTERNAL" || !isKeywardError(error ?? {})))
      logger.error(line, "request");
    else if (decision === "denied" || decision === "error") logger.warn(line, "request");
    else logger.info(line, "request");
  }
  return {
    async observe(start, run) {
      const given = start.headers?.get("x-request-id");
      const record: RequestRecord = {
        requestId: given !== null && given !== undefined && REQUEST_ID.test(given) ? given : randomUUID(),
        listener: start.listener,
        method: start.method,
        started: process.hrtime.bigint(),
        ...(start.operator === undefined ? {} : { operator: start.operator }),
      };
      if (drain !== undefined && !drain.enter()) {
        const refused = new KeywardError(
          "ERR_SERVICE_SHUTTING_DOWN",
          "the service is shutting down and did nothing with this request: retry",
        );
        finish(record, refused);
        throw refused;
      }
      try {
        const result = await current.run(record, run);
        finish(record);
        return result;
      } catch (e) {
        finish(record, e);
        throw e;
      } finally {
        drain?.leave();
      }
    },
    finish,
  };
}
