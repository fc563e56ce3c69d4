/**
 * gRPC health checking (`grpc.health.v1.Health`, grpc/grpc doc/health-checking.md) over the
 * service's readiness: the server as a whole (service name "") and each gRPC service served on the
 * listener are SERVING while every readiness check passes and the service is not shutting down,
 * NOT_SERVING otherwise; any other name is unknown (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN).
 *
 * Served on the challenge listener, the admin listener and, as plaintext h2c, on the ops listener,
 * where Kubernetes gRPC probes (`grpc: { port, service }`) reach it without a client certificate.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@keyward/proto/grpc";
import type { ReadinessCheck } from "../ops/health.ts";

/** What health is computed from: the readiness checks and whether the service is draining. */
export interface HealthSource {
  readonly checks: readonly ReadinessCheck[];
  /** True once shutdown began: every service answers NOT_SERVING from then on. */
  readonly draining: () => boolean;
}

/** How long one readiness result answers every probe (bounds the store's load from probes). */
const MEMO_MS = 1000;
/** How often Watch re-evaluates the status it streams. */
const WATCH_INTERVAL_MS = 2000;

/**
 * The health of the service as a whole, run at most once a second however many probes ask
 * (unauthenticated callers can reach the challenge listener's Health service).
 */
export function readinessProbe(source: HealthSource): () => Promise<boolean> {
  let memo: { at: number; ready: Promise<boolean> } | undefined;
  return () => {
    if (source.draining()) return Promise.resolve(false);
    const t = performance.now();
    if (memo === undefined || t - memo.at >= MEMO_MS)
      memo = {
        at: t,
        ready: Promise.allSettled(source.checks.map((c) => c.check())).then((r) =>
          r.every((x) => x.status === "fulfilled"),
        ),
      };
    return memo.ready;
  };
}

/**
 * Registers `grpc.health.v1.Health` for `services` (the fully-qualified names served beside it).
 * @example router: grpcHealthRoutes(["keyward.v1.ChallengeService"], readinessProbe(source))
 */
export function grpcHealthRoutes(
  services: readonly string[],
  ready: () => Promise<boolean>,
): (router: ConnectRouter) => void {
  const known = new Set(["", Health.typeName, ...services]);
  const statusOf = async (service: string) =>
    known.has(service) ? ((await ready()) ? Status.SERVING : Status.NOT_SERVING) : Status.SERVICE_UNKNOWN;
  return (router) =>
    router.service(Health, {
      async check(req) {
        const status = await statusOf(req.service);
        if (status === Status.SERVICE_UNKNOWN)
          throw new ConnectError(
            `unknown service ${JSON.stringify(req.service.slice(0, 256))}`,
            Code.NotFound,
          );
        return { status };
      },
      async list() {
        const status = await statusOf("");
        return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
      },
      async *watch(req, ctx) {
        let last: number | undefined;
        while (!ctx.signal.aborted) {
          const status = await statusOf(req.service);
          if (status !== last) yield { status };
          last = status;
          // Rejects (and so ends the loop) when the client cancels.
          await sleep(WATCH_INTERVAL_MS, undefined, { signal: ctx.signal }).catch(() => undefined);
        }
      },
    });
}
