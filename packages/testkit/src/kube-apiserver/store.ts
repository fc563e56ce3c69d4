/**
 * The object store behind the contract server, shaped like the API server's storage: one
 * cluster-wide, monotonically increasing resourceVersion stamped on every write; a bounded history
 * of change events from which a watch started at resourceVersion R replays every change after R;
 * compaction that forgets old history, after which such a watch fails with 410 Expired ("API
 * Concepts": Efficient detection of changes, Resource versions).
 *
 * Watch filtering follows the API server's watch cache: an object that starts to match a watch's
 * selectors arrives as ADDED, one that stops matching as DELETED.
 *
 * @module
 */
import { clone } from "./json.ts";
import { apiVersionOf, type ResourceType } from "./resources.ts";
import type { KubeObject, Matcher } from "./selectors.ts";
import { expired } from "./status.ts";

/** A watch event as written on the wire. */
export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: unknown;
}

interface Change {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly t: ResourceType;
  readonly object: KubeObject;
  readonly prev: KubeObject | undefined;
}

/** What a watch selects and where its events go. */
export interface WatchSpec {
  readonly t: ResourceType;
  /** Only objects of this namespace (undefined: every namespace). */
  readonly namespace: string | undefined;
  readonly matches: Matcher;
  readonly bookmarks: boolean;
  readonly send: (event: WatchEvent) => void;
}

/** A registered watch; `stop()` unregisters it. */
export interface WatchHandle {
  stop(): void;
}

const keyOf = (t: ResourceType, namespace: string | undefined, name: string): string =>
  `${t.group}/${t.plural}/${namespace ?? ""}/${name}`;

/** Objects, resourceVersions, change history and watches. */
export class Store {
  #rv = 1;
  #compactedThrough = 0;
  readonly #objects = new Map<string, { t: ResourceType; object: KubeObject }>();
  #history: Change[] = [];
  readonly #watches = new Set<WatchSpec>();
  readonly #maxHistory: number;

  constructor(maxHistory: number) {
    this.#maxHistory = maxHistory;
  }

  /** The current (newest) resourceVersion, as the string clients see. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** The stored object (a copy), or undefined. */
  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const e = this.#objects.get(keyOf(t, namespace, name));
    return e === undefined ? undefined : clone(e.object);
  }

  /** Copies of the objects of a type, in one namespace or all, ordered by namespace then name. */
  list(t: ResourceType, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const e of this.#objects.values())
      if (e.t === t && (namespace === undefined || e.object.metadata.namespace === namespace))
        out.push(clone(e.object));
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ""}/${b.metadata.name}`,
      ),
    );
  }

  /** Copies of every stored object with its type. */
  all(): { t: ResourceType; object: KubeObject }[] {
    return [...this.#objects.values()].map((e) => ({ t: e.t, object: clone(e.object) }));
  }

  /**
   * Stores `object` (created or replaced), stamping a new resourceVersion, and notifies watches.
   * @returns the stored copy
   */
  put(t: ResourceType, object: KubeObject): KubeObject {
    const key = keyOf(t, object.metadata.namespace, object.metadata.name ?? "");
    const prev = this.#objects.get(key)?.object;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(++this.#rv);
    this.#objects.set(key, { t, object: stored });
    this.#record({ rv: this.#rv, type: prev === undefined ? "ADDED" : "MODIFIED", t, object: stored, prev });
    return clone(stored);
  }

  /** Removes an object for good (a DELETED event at a new resourceVersion). */
  remove(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(t, namespace, name);
    const prev = this.#objects.get(key)?.object;
    if (prev === undefined) return undefined;
    this.#objects.delete(key);
    const last = clone(prev);
    last.metadata.resourceVersion = String(++this.#rv);
    this.#record({ rv: this.#rv, type: "DELETED", t, object: last, prev });
    return clone(last);
  }

  /** Forgets every change up to now: a watch from an older resourceVersion gets 410 Expired. */
  compact(): void {
    this.#history = [];
    this.#compactedThrough = this.#rv;
  }

  /**
   * Starts a watch. With `fromRv` (not "0"), replays every change after it first; without, sends a
   * synthetic ADDED for each current object, then follows.
   * @throws StatusError 410 Expired when `fromRv` is older than the kept history
   */
  watch(spec: WatchSpec, fromRv: string | undefined): WatchHandle {
    if (fromRv === undefined || fromRv === "" || fromRv === "0") {
      for (const o of this.list(spec.t, spec.namespace))
        if (spec.matches(o)) spec.send({ type: "ADDED", object: o });
    } else {
      const rv = Number(fromRv);
      if (!Number.isSafeInteger(rv) || rv < 0) throw expired(`invalid resource version: ${fromRv}`);
      if (rv < this.#compactedThrough)
        throw expired(`too old resource version: ${rv} (${this.#compactedThrough + 1})`);
      for (const c of this.#history) if (c.rv > rv) this.#deliver(spec, c);
    }
    this.#watches.add(spec);
    return { stop: () => this.#watches.delete(spec) };
  }

  /** Sends a BOOKMARK carrying the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.#watches) if (w.bookmarks) w.send(this.bookmarkEvent(w.t));
  }

  /** A BOOKMARK event: only the kind and the resourceVersion are set. */
  bookmarkEvent(t: ResourceType, annotations?: Record<string, string>): WatchEvent {
    return {
      type: "BOOKMARK",
      object: {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: {
          resourceVersion: this.resourceVersion,
          ...(annotations === undefined ? {} : { annotations }),
        },
      },
    };
  }

  #record(change: Change): void {
    this.#history.push(change);
    if (this.#history.length > this.#maxHistory) {
      const dropped = this.#history.splice(0, this.#history.length - this.#maxHistory);
      this.#compactedThrough = (dropped.at(-1) as Change).rv;
    }
    for (const w of this.#watches) this.#deliver(w, change);
  }

  #deliver(w: WatchSpec, c: Change): void {
    if (w.t !== c.t) return;
    if (w.namespace !== undefined && c.object.metadata.namespace !== w.namespace) return;
    const now = c.type !== "DELETED" && w.matches(c.object);
    const before = c.prev !== undefined && w.matches(c.prev);
    if (c.type === "DELETED") {
      if (before) w.send({ type: "DELETED", object: clone(c.object) });
    } else if (now) w.send({ type: before ? "MODIFIED" : "ADDED", object: clone(c.object) });
    else if (before) {
      // Left the selection: the previous state, at the new resourceVersion, as DELETED.
      const last = clone(c.prev as KubeObject);
      last.metadata.resourceVersion = String(c.rv);
      w.send({ type: "DELETED", object: last });
    }
  }
}
