import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { type KubeApiServer, startKubeApiServer } from "./server.ts";
import { call, watchEvents, watchStarted } from "./test-client.ts";

const cm = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels },
  data: { v: "1" },
});
type Event = { type: string; object: Record<string, unknown> };
const names = (events: readonly Event[]) =>
  events.map((e) => `${e.type} ${(e.object.metadata as { name?: string }).name ?? ""}`);
const rvOf = (body: unknown) => (body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

describe("kube-apiserver contract: lists, selectors and watches", { timeout: 60_000 }, () => {
  let server: KubeApiServer;
  before(async () => {
    server = await startKubeApiServer({ namespaces: ["w", "other"] });
  });
  after(() => server.close());

  it("lists with equality- and set-based label selectors and field selectors", async () => {
    for (const [name, labels] of [
      ["a", { tier: "front", env: "prod" }],
      ["b", { tier: "back", env: "prod" }],
      ["c", { tier: "back" }],
    ] as const)
      await call(server, "POST", "/api/v1/namespaces/other/configmaps", cm(name, labels));
    const list = async (q: string) => {
      const r = await call(server, "GET", `/api/v1/namespaces/other/configmaps?${q}`);
      assert.equal(r.status, 200, q);
      return (r.body as { items: { metadata: { name: string } }[] }).items
        .map((i) => i.metadata.name)
        .filter((n) => n !== "kube-root-ca.crt");
    };
    const sel = (s: string) => `labelSelector=${encodeURIComponent(s)}`;
    assert.deepEqual(await list(sel("tier=back")), ["b", "c"]);
    assert.deepEqual(await list(sel("tier==back,env=prod")), ["b"]);
    assert.deepEqual(await list(sel("env!=prod")), ["c"], "!= also selects objects without the label");
    assert.deepEqual(await list(sel("tier in (front, back),env")), ["a", "b"]);
    assert.deepEqual(await list(sel("tier notin (front)")), ["b", "c"]);
    assert.deepEqual(await list(sel("!env")), ["c"]);
    assert.deepEqual(await list(`fieldSelector=${encodeURIComponent("metadata.name=b")}`), ["b"]);
    assert.deepEqual(await list(`fieldSelector=${encodeURIComponent("metadata.name!=b")}`), ["a", "c"]);
    const items = (await call(server, "GET", "/api/v1/namespaces/other/configmaps")).body as {
      kind: string;
      items: Record<string, unknown>[];
    };
    assert.equal(items.kind, "ConfigMapList");
    assert.equal(items.items[0]?.kind, undefined, "items of a typed list carry no kind");
    assert.equal(
      (await call(server, "GET", `/api/v1/namespaces/other/configmaps?${sel("tier in (a")}`)).status,
      400,
    );
    assert.equal(
      (await call(server, "GET", "/api/v1/namespaces/other/configmaps?fieldSelector=data.v%3D1")).status,
      400,
    );
  });

  it("streams ADDED, MODIFIED and DELETED after the list's resourceVersion, in order", async () => {
    const listed = await call(server, "GET", "/api/v1/namespaces/w/configmaps");
    const done = watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${rvOf(listed.body)}`,
      (e) => e.length >= 3,
    );
    await call(server, "POST", "/api/v1/namespaces/w/configmaps", cm("x"));
    await call(
      server,
      "PATCH",
      "/api/v1/namespaces/w/configmaps/x",
      { data: { v: "2" } },
      { contentType: "application/merge-patch+json" },
    );
    await call(server, "DELETE", "/api/v1/namespaces/w/configmaps/x");
    const events = await done;
    assert.deepEqual(names(events), ["ADDED x", "MODIFIED x", "DELETED x"]);
    const rvs = events.map((e) => Number(rvOf(e.object)));
    assert.ok((rvs[0] as number) < (rvs[1] as number) && (rvs[1] as number) < (rvs[2] as number));
  });

  it("resumes a watch from the last resourceVersion seen, missing nothing", async () => {
    const start = rvOf((await call(server, "GET", "/api/v1/namespaces/w/configmaps")).body);
    await call(server, "POST", "/api/v1/namespaces/w/configmaps", cm("r1"));
    await call(server, "POST", "/api/v1/namespaces/w/configmaps", cm("r2"));
    // The first watch ended after one event; a new one from that event's version sees the rest.
    const seen = await watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${start}`,
      (e) => e.length >= 1,
    );
    const resumed = await watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${rvOf(seen[0]?.object)}`,
      (e) => e.length >= 1,
    );
    assert.deepEqual(names(seen), ["ADDED r1"]);
    assert.deepEqual(names(resumed), ["ADDED r2"]);
  });

  it("starts without a resourceVersion with synthetic ADDED events for what exists", async () => {
    const events = await watchEvents(
      server,
      "/api/v1/namespaces/other/configmaps?watch=1&labelSelector=tier%3Dback",
      (e) => e.length >= 2,
    );
    assert.deepEqual(names(events), ["ADDED b", "ADDED c"]);
  });

  it("answers a watch from a compacted resourceVersion with an ERROR event: Status 410 Expired", async () => {
    const old = rvOf((await call(server, "GET", "/api/v1/namespaces/w/configmaps")).body);
    await call(server, "POST", "/api/v1/namespaces/w/configmaps", cm("after-compaction"));
    server.compact();
    const events = await watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${old}`,
      () => false,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, "ERROR");
    assert.equal(events[0]?.object.kind, "Status");
    assert.equal(events[0]?.object.code, 410);
    assert.equal(events[0]?.object.reason, "Expired");
    // A fresh list gives a version the server can resume from again.
    const fresh = rvOf((await call(server, "GET", "/api/v1/namespaces/w/configmaps")).body);
    const done = watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${fresh}`,
      (e) => e.length >= 1,
    );
    await call(server, "POST", "/api/v1/namespaces/w/configmaps", cm("post-relist"));
    assert.deepEqual(names(await done), ["ADDED post-relist"]);
  });

  it("can answer such a watch with HTTP 410 and a Status body instead", async () => {
    const other = await startKubeApiServer({ watchExpiredAsHttpStatus: true });
    try {
      const old = rvOf((await call(other, "GET", "/api/v1/namespaces/default/configmaps")).body);
      await call(other, "POST", "/api/v1/namespaces/default/configmaps", cm("bump"));
      other.compact();
      const r = await call(
        other,
        "GET",
        `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}`,
      );
      assert.equal(r.status, 410);
      assert.equal((r.body as { reason: string }).reason, "Expired");
    } finally {
      await other.close();
    }
  });

  it("turns selector transitions into ADDED and DELETED", async () => {
    const rv = rvOf((await call(server, "GET", "/api/v1/namespaces/w/configmaps")).body);
    const done = watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${rv}&labelSelector=sel%3Dyes`,
      (e) => e.length >= 3,
    );
    await call(server, "POST", "/api/v1/namespaces/w/configmaps", cm("moving"));
    await call(
      server,
      "PATCH",
      "/api/v1/namespaces/w/configmaps/moving",
      { metadata: { labels: { sel: "yes" } } },
      { contentType: "application/merge-patch+json" },
    );
    await call(
      server,
      "PATCH",
      "/api/v1/namespaces/w/configmaps/moving",
      { data: { v: "3" } },
      { contentType: "application/merge-patch+json" },
    );
    await call(
      server,
      "PATCH",
      "/api/v1/namespaces/w/configmaps/moving",
      { metadata: { labels: { sel: null } } },
      { contentType: "application/merge-patch+json" },
    );
    assert.deepEqual(names(await done), ["ADDED moving", "MODIFIED moving", "DELETED moving"]);
  });

  it("sends a bookmark with the current resourceVersion to a watch that allows them", async () => {
    const rv = rvOf((await call(server, "GET", "/api/v1/namespaces/w/configmaps")).body);
    const started = watchStarted(server, (p) => p.includes("allowWatchBookmarks=true"));
    const done = watchEvents(
      server,
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`,
      (e) => e.length >= 1,
    );
    await started;
    server.bookmark();
    const [bookmark] = await done;
    assert.equal(bookmark?.type, "BOOKMARK");
    assert.deepEqual(bookmark?.object, {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { resourceVersion: rv },
    });
  });

  it("works with @kubernetes/client-node's Watch, including a clean end of the stream", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: "w" });
    const seen: string[] = [];
    const started = watchStarted(server, (p) => p.startsWith("/api/v1/namespaces/w/configmaps"));
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        "/api/v1/namespaces/w/configmaps",
        { resourceVersion: list.metadata?.resourceVersion },
        (type, o) => {
          seen.push(`${type} ${o.metadata.name}`);
          if (seen.length === 1) server.closeWatches();
        },
        resolve,
      );
    });
    await started;
    await core.createNamespacedConfigMap({ namespace: "w", body: cm("client-node") });
    assert.equal(await ended, null);
    assert.deepEqual(seen, ["ADDED client-node"]);
  });
});
