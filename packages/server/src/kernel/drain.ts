/**
 * Draining at shutdown (SIGTERM): from `begin` on, a request that arrives is refused before any
 * work with ERR_SERVICE_SHUTTING_DOWN (gRPC UNAVAILABLE: retry, on another replica), while the
 * requests already admitted run to their end, for at most the grace period. Every method of every
 * kernel listener is admitted here (requests.ts), so "in flight" means admitted and not settled.
 *
 * @module
 */

/** Admission of requests, and the wait for those in flight. */
export class Drain {
  #draining = false;
  #inFlight = 0;
  #idle: (() => void) | undefined;

  /** True once draining began. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Requests admitted and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Admits a request (then {@link leave} once it settles); false when draining: refuse it. */
  enter(): boolean {
    if (this.#draining) return false;
    this.#inFlight++;
    return true;
  }

  /** An admitted request settled. */
  leave(): void {
    this.#inFlight--;
    if (this.#draining && this.#inFlight === 0) this.#idle?.();
  }

  /**
   * Stops admitting and waits until nothing is in flight, or `graceMs` passed (ms). Resolves with
   * how many requests were still in flight then (0: drained).
   */
  async begin(graceMs: number): Promise<number> {
    this.#draining = true;
    if (this.#inFlight === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
      timer = setTimeout(resolve, graceMs);
    });
    clearTimeout(timer);
    this.#idle = undefined;
    return this.#inFlight;
  }
}
