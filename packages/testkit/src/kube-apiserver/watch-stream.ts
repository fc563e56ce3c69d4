/**
 * Watch streams ("API Concepts": Efficient detection of changes): a chunked 200 answer with one
 * JSON event per line; a watch that cannot start (410 Expired) gets a single ERROR event carrying
 * the Status, then the stream ends, as the API server does it. `timeoutSeconds` ends the stream
 * cleanly; `sendInitialEvents` with bookmarks ends the initial burst with the
 * `k8s.io/initial-events-end` bookmark.
 *
 * @module
 */
import type { ServerResponse } from "node:http";
import type { Api } from "./api.ts";
import { matcher, type Route } from "./route.ts";
import type { KubeObject } from "./selectors.ts";
import { StatusError } from "./status.ts";

/** Serves a watch on `route` until the client goes, the timeout passes, or the server ends it. */
export function startWatch(
  api: Api,
  watches: Set<ServerResponse>,
  route: Route,
  q: URLSearchParams,
  res: ServerResponse,
  record: (code: number) => void,
  expiredAsHttpStatus: boolean,
): void {
  const labelsAndFields = matcher(route.t, q);
  const byName =
    route.name === undefined
      ? labelsAndFields
      : (o: KubeObject) => o.metadata.name === route.name && labelsAndFields(o);
  // Events the store replays while the watch starts wait until the answer's headers are out.
  let pending: unknown[] | undefined = [];
  const write = (e: unknown) => {
    if (pending !== undefined) pending.push(e);
    else if (!res.writableEnded) res.write(`${JSON.stringify(e)}\n`);
  };
  const open = () => {
    record(200);
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    watches.add(res);
    const queued = pending ?? [];
    pending = undefined;
    for (const e of queued) write(e);
  };
  const rv = q.get("resourceVersion") ?? undefined;
  let handle: { stop(): void } | undefined;
  try {
    handle = api.store.watch(
      {
        t: route.t,
        namespace: route.namespace,
        matches: byName,
        bookmarks: q.get("allowWatchBookmarks") === "true",
        send: write,
      },
      rv,
    );
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    if (expiredAsHttpStatus) {
      record(e.status.code);
      res.writeHead(e.status.code, { "content-type": "application/json" });
      res.end(JSON.stringify(e.status));
      return;
    }
    open();
    write({ type: "ERROR", object: e.status });
    watches.delete(res);
    res.end();
    return;
  }
  open();
  if (q.get("sendInitialEvents") === "true" && q.get("allowWatchBookmarks") === "true")
    write(api.store.bookmarkEvent(route.t, { "k8s.io/initial-events-end": "true" }));
  const timeout = Number(q.get("timeoutSeconds") ?? "0");
  const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
  res.on("close", () => {
    handle?.stop();
    if (timer !== undefined) clearTimeout(timer);
    watches.delete(res);
  });
}
