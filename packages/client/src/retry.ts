/**
 * Retrying what may succeed a moment later: a connection refused, reset or timed out (the service
 * restarting, a replica going away) and the service's UNAVAILABLE, retried with exponential
 * backoff and full jitter; nothing else (a refused policy, bad evidence, a server whose evidence
 * does not verify) is retried.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { isKeywardError } from "@keyward/attest/errors";

/** How failures are retried. */
export interface RetryOptions {
  /** Attempts in all, the first included (1: no retry). Default 4. */
  readonly attempts?: number;
  /** The first backoff, in milliseconds; each further one doubles, up to `maxDelayMs`. Default 100. */
  readonly baseDelayMs?: number;
  /** The largest backoff, in milliseconds. Default 2000. */
  readonly maxDelayMs?: number;
  /** Called before each retry (logging, tests). */
  readonly onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

const CONNECTION = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;

/** True for a failure worth retrying: the connection, or the service saying it is unavailable. */
export function isTransient(e: unknown): boolean {
  if (e instanceof ConnectError)
    return e.code === Code.Unavailable || (e.code === Code.Internal && /ECONNRESET|EPIPE/.test(e.rawMessage));
  // Channels report a connection that failed before or during verification as ERR_IO (a refused
  // verification has its own code, never retried).
  if (isKeywardError(e, "ERR_IO")) return true;
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && CONNECTION.test(code);
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or the attempts run out
 * (then the last error is thrown).
 */
export async function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2000;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (n >= attempts || !isTransient(e)) throw e;
      // Full jitter: replicas restarted together are not hit by every client at once.
      const delay = Math.floor(Math.random() * Math.min(max, base * 2 ** (n - 1)));
      options.onRetry?.(n, e, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
