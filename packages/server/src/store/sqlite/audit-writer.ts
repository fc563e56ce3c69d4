/**
 * Group commit of audit appends on a writer thread (SQLite). While one batch is being committed
 * on the writer's connection, new appends queue; when it is durable, its callers are answered and
 * the queue goes as the next batch. So the service's thread neither blocks on fsync nor pays one
 * per request, and an append is acknowledged only once committed.
 *
 * @module
 */
import type { Worker } from "node:worker_threads";
import { KeywardError } from "@keyward/attest/errors";
import { startThread } from "@keyward/platform/runtime";
import type { AuditEntry, AuditEvent } from "../../audit/chain.ts";
import { storeFaultOf } from "../faults.ts";
import type { AuditBatch, AuditBatchResult, AuditWriterData } from "./audit-writer-thread.ts";
import { fileIdentity, fileUrl } from "./file-identity.ts";

interface Waiting {
  readonly event: AuditEvent;
  readonly at: string;
  readonly resolve: (e: AuditEntry) => void;
  readonly reject: (e: unknown) => void;
}

export class AuditWriter {
  readonly #path: string;
  #worker: Worker | undefined;
  #queue: Waiting[] = [];
  #inFlight: Waiting[] | undefined;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  readonly #identity: AuditWriterData["identity"];
  readonly #start: typeof startThread | undefined;

  /**
   * `path`: the database, already created and migrated (the thread never creates one). `start`
   * starts the thread (`startThread`; tests give one that fails).
   */
  constructor(path: string, start?: typeof startThread) {
    this.#path = path;
    this.#identity = fileIdentity(path);
    this.#start = start;
  }

  /** Appends `event` (which happened at `at`); resolves with its entry once committed. */
  append(event: AuditEvent, at: string): Promise<AuditEntry> {
    if (this.#closing !== undefined)
      return Promise.reject(new KeywardError("ERR_INTERNAL", "the audit writer is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, at, resolve, reject });
      if (this.#inFlight === undefined) this.#send();
    });
  }

  /** Waits for every queued append, then stops the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#inFlight !== undefined || this.#queue.length > 0)
        await new Promise((r) => setTimeout(r, 1));
      await this.#worker?.terminate();
      this.#worker = undefined;
    })();
    return this.#closing;
  }

  #send(): void {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight = batch;
    const message: AuditBatch = {
      id: this.#nextId++,
      items: batch.map((w) => ({ event: w.event, at: w.at })),
    };
    let worker: Worker;
    try {
      worker = this.#thread();
    } catch (cause) {
      // A thread that cannot even start fails its batch loudly rather than leaving it pending.
      this.#inFlight = undefined;
      const e = new KeywardError("ERR_INTERNAL", "the audit writer thread cannot start", { cause });
      for (const w of batch) w.reject(e);
      return;
    }
    worker.ref(); // a batch in flight keeps the process alive until it is durable
    worker.postMessage(message);
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    // startThread: the same thread from sources and inside a single executable.
    const data: AuditWriterData = {
      path: this.#path,
      url: fileUrl(this.#path).href,
      identity: this.#identity,
    };
    // The literal call below is the shape scripts/build-sea.ts looks for to embed the thread in a
    // single executable; a test may start it its own way.
    const worker =
      this.#start === undefined
        ? startThread("audit-writer", new URL("./audit-writer-thread.ts", import.meta.url), {
            workerData: data,
          })
        : this.#start("audit-writer", new URL("./audit-writer-thread.ts", import.meta.url), {
            workerData: data,
          });
    worker.unref();
    worker.on("message", (r: AuditBatchResult) => {
      const batch = this.#inFlight ?? [];
      this.#inFlight = undefined;
      if ("error" in r) {
        const e =
          r.fault === undefined
            ? new KeywardError("ERR_INTERNAL", `audit append failed: ${r.error}`)
            : new KeywardError("ERR_STORE_UNAVAILABLE", `the store cannot commit: ${r.fault}`, {
                detail: { reason: r.fault },
              });
        for (const w of batch) w.reject(e);
        // A connection that met a fault stays unusable (SQLite keeps a read-only file read-only):
        // the next append starts a thread with a fresh one.
        if (r.fault !== undefined) {
          this.#worker = undefined;
          void worker.terminate();
        }
      } else {
        for (const [i, w] of batch.entries()) w.resolve(r.entries[i] as AuditEntry);
      }
      if (this.#queue.length === 0) worker.unref(); // idle: the thread alone keeps nothing running
      this.#send();
    });
    // A thread that dies fails what it held; the next append starts a new one.
    const fail = (cause: unknown) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const batch = this.#inFlight ?? [];
      this.#inFlight = undefined;
      // A thread that could not open the database (removed, replaced, unreadable) is a store fault.
      const now = fileIdentity(this.#path);
      const moved = now === undefined || now.dev !== this.#identity?.dev || now.ino !== this.#identity.ino;
      const fault =
        storeFaultOf(cause) ??
        (moved ? `the database file ${this.#path} was removed or replaced` : undefined);
      const e =
        fault === undefined
          ? new KeywardError("ERR_INTERNAL", "the audit writer thread stopped", { cause })
          : new KeywardError("ERR_STORE_UNAVAILABLE", `the store cannot commit: ${fault}`, {
              cause,
              detail: { reason: fault },
            });
      for (const w of batch) w.reject(e);
      this.#send();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`exit ${code}`)));
    this.#worker = worker;
    return worker;
  }
}
