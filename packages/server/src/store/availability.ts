/**
 * The store's availability, told truthfully: every store fault (faults.ts) of any operation is
 * reported as `ERR_STORE_UNAVAILABLE` with its cause and heard by `onFault` (the service logs it),
 * readiness fails while the store cannot commit, and the store recovers by itself: while it is
 * unavailable a probe write is tried every `retryMs`, and the first commit that succeeds (a probe
 * or a request's) makes it available again (`onRecovered`).
 *
 * The probe commits one row of its own table (`store_probe`, created by the probe itself on both
 * engines), so it proves what a request needs — a write transaction that commits — and nothing
 * else: it touches no secret, policy or audit row.
 *
 * @module
 */
import type { Store } from "./contract.ts";
import { asStoreError, storeFaultOf } from "./faults.ts";
import type { Sql } from "./sql.ts";

/** What the service learns about the store's availability. */
export interface StoreHealth {
  /** The cause of the last fault while the store cannot commit; undefined while it can. */
  readonly unavailable: string | undefined;
  /** Commits a probe row. @throws ERR_STORE_UNAVAILABLE naming the cause */
  probe(): Promise<void>;
  /**
   * For `/readyz`: resolves while the store commits (probing at most once per `readyMs`),
   * rejects with the cause while it cannot.
   */
  ready(): Promise<void>;
}

/** A store that reports its faults, with its health. */
export interface GuardedStore extends Store {
  readonly health: StoreHealth;
}

/** Options of {@link guardStore}. */
export interface GuardOptions {
  /** Every failed operation that is a store fault: the operation's name and the cause. */
  readonly onFault?: (operation: string, cause: string) => void;
  /** The store commits again after a fault. */
  readonly onRecovered?: () => void;
  /** How often a probe is tried while unavailable (milliseconds; default 2000). */
  readonly retryMs?: number;
  /** The longest a readiness answer is reused (milliseconds; default 1000). */
  readonly readyMs?: number;
  readonly now?: () => Date;
}

// Operations that commit: their success proves the store commits again.
const WRITES = new Set([
  "putSecret",
  "deleteSecret",
  "rewrap",
  "putKeyVersion",
  "rotateMasterKey",
  "putPolicy",
  "replacePolicyDocuments",
  "deletePolicy",
  "appendAudit",
  "run",
  "exec",
  "transaction",
  "probe",
]);

/**
 * `store` with every operation's store faults reported, and its {@link StoreHealth}.
 * @example const store = guardStore(await openStore(config), { onFault: (op, cause) => log.error(…) })
 */
export function guardStore(store: Store, options: GuardOptions = {}): GuardedStore {
  const now = options.now ?? (() => new Date());
  let unavailable: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastReady: { at: number; result: Promise<void> } | undefined;

  const recovered = () => {
    if (unavailable === undefined) return;
    unavailable = undefined;
    clearInterval(timer);
    timer = undefined;
    options.onRecovered?.();
  };
  const faulted = (operation: string, cause: string) => {
    const changed = unavailable !== cause;
    unavailable = cause;
    lastReady = undefined;
    // Every failed request is heard; a probe failing again for the same cause is not news.
    if (operation !== "probe" || changed) options.onFault?.(operation, cause);
    if (timer === undefined) {
      timer = setInterval(() => void health.probe().catch(() => undefined), options.retryMs ?? 2000);
      timer.unref();
    }
  };
  const wrap = <F extends (...a: never[]) => Promise<unknown>>(operation: string, f: F): F =>
    (async (...a: Parameters<F>) => {
      try {
        const r = await f(...a);
        if (WRITES.has(operation)) recovered();
        return r;
      } catch (e) {
        const cause = storeFaultOf(e);
        if (cause !== undefined) faulted(operation, cause);
        throw asStoreError(e);
      }
    }) as F;

  const raw = store.sql;
  const sql: Sql = {
    engine: raw.engine,
    dialect: raw.dialect,
    all: wrap("all", raw.all),
    get: wrap("get", raw.get),
    run: wrap("run", raw.run),
    exec: wrap("exec", raw.exec),
    tableExists: wrap("tableExists", raw.tableExists),
    transaction: wrap("transaction", raw.transaction) as Sql["transaction"],
    close: raw.close,
  };
  const health: StoreHealth = {
    get unavailable() {
      return unavailable;
    },
    probe: wrap("probe", () =>
      raw.transaction(async (tx) => {
        await tx.exec(
          "CREATE TABLE IF NOT EXISTS store_probe (id INTEGER PRIMARY KEY, probed_at TEXT NOT NULL)",
        );
        await tx.run(
          "INSERT INTO store_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
          [now().toISOString()],
        );
      }),
    ),
    ready() {
      const at = Date.now();
      if (lastReady === undefined || at - lastReady.at >= (options.readyMs ?? 1000))
        lastReady = { at, result: health.probe() };
      return lastReady.result;
    },
  };

  const guarded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(store))
    guarded[name] = typeof value === "function" && name !== "close" ? wrap(name, value.bind(store)) : value;
  return {
    ...(guarded as unknown as Store),
    sql,
    health,
    async close() {
      clearInterval(timer);
      await store.close();
    },
  };
}
