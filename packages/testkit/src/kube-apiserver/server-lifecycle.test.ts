import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type KubeApiServer, startKubeApiServer } from "./server.ts";
import { call } from "./test-client.ts";

type Meta = {
  name: string;
  uid: string;
  resourceVersion: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: unknown[];
};
const metaOf = (body: unknown) => (body as { metadata: Meta }).metadata;
const owned = (name: string, owner: Meta) => ({
  metadata: {
    name,
    ownerReferences: [
      { apiVersion: "v1", kind: "ConfigMap", name: owner.name, uid: owner.uid, blockOwnerDeletion: true },
    ],
  },
});

describe("kube-apiserver contract: deletion, garbage collection, pods, RBAC", { timeout: 60_000 }, () => {
  let server: KubeApiServer;
  before(async () => {
    server = await startKubeApiServer({ namespaces: ["gc", "team-a", "team-b"] });
  });
  after(() => server.close());

  const create = async (path: string, body: unknown) => {
    const r = await call(server, "POST", path, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return metaOf(r.body);
  };
  const exists = async (path: string) => (await call(server, "GET", path)).status === 200;

  it("background deletion: the owner goes at once, the garbage collector removes its dependents", async () => {
    const owner = await create("/api/v1/namespaces/gc/configmaps", { metadata: { name: "owner-bg" } });
    await create("/api/v1/namespaces/gc/secrets", owned("dep-bg-1", owner));
    await create("/api/v1/namespaces/gc/configmaps", owned("dep-bg-2", owner));
    const r = await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/owner-bg");
    assert.equal(r.status, 200);
    assert.equal(metaOf(r.body).uid, owner.uid, "DELETE answers with the object's last state");
    await server.settle();
    assert.equal(await exists("/api/v1/namespaces/gc/secrets/dep-bg-1"), false);
    assert.equal(await exists("/api/v1/namespaces/gc/configmaps/dep-bg-2"), false);
  });

  it("foreground deletion: the owner waits with a finalizer until its dependents are gone", async () => {
    const owner = await create("/api/v1/namespaces/gc/configmaps", { metadata: { name: "owner-fg" } });
    const dep = owned("dep-fg", owner);
    // The dependent's own finalizer keeps it (and so the owner) until the test releases it.
    await create("/api/v1/namespaces/gc/configmaps", {
      metadata: { ...dep.metadata, finalizers: ["example.com/hold"] },
    });
    const r = await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/owner-fg", {
      propagationPolicy: "Foreground",
    });
    assert.equal(r.status, 200);
    assert.deepEqual(metaOf(r.body).finalizers, ["foregroundDeletion"]);
    assert.ok(metaOf(r.body).deletionTimestamp);
    await server.settle();
    assert.equal(await exists("/api/v1/namespaces/gc/configmaps/owner-fg"), true);
    const held = await call(server, "GET", "/api/v1/namespaces/gc/configmaps/dep-fg");
    assert.ok(metaOf(held.body).deletionTimestamp, "the garbage collector deleted the dependent");
    await call(
      server,
      "PATCH",
      "/api/v1/namespaces/gc/configmaps/dep-fg",
      { metadata: { finalizers: null } },
      { contentType: "application/merge-patch+json" },
    );
    await server.settle();
    assert.equal(await exists("/api/v1/namespaces/gc/configmaps/dep-fg"), false);
    assert.equal(await exists("/api/v1/namespaces/gc/configmaps/owner-fg"), false);
  });

  it("orphan deletion: dependents stay and lose their owner reference", async () => {
    const owner = await create("/api/v1/namespaces/gc/configmaps", { metadata: { name: "owner-or" } });
    await create("/api/v1/namespaces/gc/configmaps", owned("dep-or", owner));
    await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/owner-or?propagationPolicy=Orphan");
    await server.settle();
    const dep = await call(server, "GET", "/api/v1/namespaces/gc/configmaps/dep-or");
    assert.equal(dep.status, 200);
    assert.equal(metaOf(dep.body).ownerReferences, undefined);
    assert.equal(await exists("/api/v1/namespaces/gc/configmaps/owner-or"), false);
  });

  it("collects an object created with an owner that does not exist", async () => {
    await create(
      "/api/v1/namespaces/gc/configmaps",
      owned("dangling", { name: "never", uid: "00000000-0000-0000-0000-000000000000", resourceVersion: "" }),
    );
    await server.settle();
    assert.equal(await exists("/api/v1/namespaces/gc/configmaps/dangling"), false);
  });

  it("checks delete preconditions: a stale uid or resourceVersion is 409 Conflict", async () => {
    const m = await create("/api/v1/namespaces/gc/configmaps", { metadata: { name: "pre" } });
    const stale = await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/pre", {
      preconditions: { uid: "other" },
    });
    assert.equal(stale.status, 409);
    assert.match(
      String((stale.body as { message: string }).message),
      /Precondition failed: UID in precondition: other/,
    );
    const rv = await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/pre", {
      preconditions: { resourceVersion: "1" },
    });
    assert.equal(rv.status, 409);
    const ok = await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/pre", {
      preconditions: { uid: m.uid, resourceVersion: m.resourceVersion },
    });
    assert.equal(ok.status, 200);
    assert.equal((await call(server, "DELETE", "/api/v1/namespaces/gc/configmaps/pre")).status, 404);
  });

  it("terminates a scheduled pod gracefully: marked, then removed when its kubelet confirms", async () => {
    await create("/api/v1/namespaces/gc/pods", {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "c:1" }] },
    });
    const running = server.kubelet.run("gc", "p");
    assert.equal((running.status as { phase: string }).phase, "Running");
    assert.ok(
      (running.status as { conditions: { type: string; status: string }[] }).conditions.some(
        (c) => c.type === "Ready" && c.status === "True",
      ),
    );
    const r = await call(server, "DELETE", "/api/v1/namespaces/gc/pods/p?gracePeriodSeconds=20");
    assert.equal(r.status, 200);
    assert.ok(metaOf(r.body).deletionTimestamp);
    assert.equal(await exists("/api/v1/namespaces/gc/pods/p"), true);
    server.kubelet.finishTermination("gc", "p");
    assert.equal(await exists("/api/v1/namespaces/gc/pods/p"), false);
  });

  it("deletes an unscheduled pod at once", async () => {
    await create("/api/v1/namespaces/gc/pods", {
      metadata: { name: "pending" },
      spec: { containers: [{ name: "c", image: "c:1" }] },
    });
    await call(server, "DELETE", "/api/v1/namespaces/gc/pods/pending");
    assert.equal(await exists("/api/v1/namespaces/gc/pods/pending"), false);
  });

  it("terminates a namespace with its content, refusing new content meanwhile", async () => {
    await create("/api/v1/namespaces", { metadata: { name: "doomed" } });
    assert.equal(
      await exists("/api/v1/namespaces/doomed/serviceaccounts/default"),
      true,
      "every namespace gets a default service account",
    );
    await create("/api/v1/namespaces/doomed/configmaps", { metadata: { name: "inside" } });
    // A finalizer on the content holds the namespace in Terminating until it is removed.
    await create("/api/v1/namespaces/doomed/configmaps", {
      metadata: { name: "held", finalizers: ["example.com/hold"] },
    });
    const r = await call(server, "DELETE", "/api/v1/namespaces/doomed");
    assert.equal((r.body as { status: { phase: string } }).status.phase, "Terminating");
    await server.settle();
    assert.equal(await exists("/api/v1/namespaces/doomed/configmaps/inside"), false);
    const refused = await call(server, "POST", "/api/v1/namespaces/doomed/configmaps", {
      metadata: { name: "late" },
    });
    assert.equal(refused.status, 403);
    assert.match(String((refused.body as { message: string }).message), /because it is being terminated/);
    const patched = await call(
      server,
      "PATCH",
      "/api/v1/namespaces/doomed/configmaps/held",
      { metadata: { finalizers: null } },
      { contentType: "application/merge-patch+json" },
    );
    assert.equal(patched.status, 200);
    await server.settle();
    assert.equal(await exists("/api/v1/namespaces/doomed"), false);
    assert.equal(await exists("/api/v1/namespaces/doomed/configmaps/inside"), false);
  });

  it("RBAC: a service account bound to a Role may do exactly what the Role grants, in its namespace", async () => {
    await create("/api/v1/namespaces/team-a/serviceaccounts", { metadata: { name: "launcher" } });
    await create("/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles", {
      metadata: { name: "pods" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] }],
    });
    await create("/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings", {
      metadata: { name: "launcher-pods" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pods" },
      subjects: [{ kind: "ServiceAccount", name: "launcher", namespace: "team-a" }],
    });
    const token = server.addUser("system:serviceaccount:team-a:launcher", [
      "system:serviceaccounts",
      "system:serviceaccounts:team-a",
    ]);
    const as = (method: string, path: string, body?: unknown) => call(server, method, path, body, { token });
    const podBody = { metadata: { name: "allowed" }, spec: { containers: [{ name: "c", image: "c:1" }] } };
    assert.equal((await as("POST", "/api/v1/namespaces/team-a/pods", podBody)).status, 201);
    assert.equal((await as("GET", "/api/v1/namespaces/team-a/pods?watch=1&timeoutSeconds=1")).status, 200);
    const other = await as("POST", "/api/v1/namespaces/team-b/pods", podBody);
    assert.equal(other.status, 403);
    assert.equal(
      (other.body as { message: string }).message,
      'pods is forbidden: User "system:serviceaccount:team-a:launcher" cannot create resource "pods" in API group "" in the namespace "team-b"',
    );
    const secrets = await as("GET", "/api/v1/namespaces/team-a/secrets");
    assert.equal(secrets.status, 403);
    assert.equal((secrets.body as { reason: string }).reason, "Forbidden");
    assert.equal(
      (await as("PATCH", "/api/v1/namespaces/team-a/pods/allowed", {})).status,
      403,
      "patch is not granted",
    );
    assert.equal(
      (await as("GET", "/api/v1/namespaces/team-a/pods/allowed/status")).status,
      403,
      "subresources need their own rule",
    );
    assert.equal((await as("GET", "/api/v1/pods")).status, 403, "no cluster-wide list");
    assert.equal((await as("DELETE", "/api/v1/namespaces/team-a/pods/allowed")).status, 200);
  });

  it("RBAC: a Role cannot grant what its writer does not hold (escalation check)", async () => {
    await create("/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/roles", {
      metadata: { name: "role-writer" },
      rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["create"] }],
    });
    await create("/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/rolebindings", {
      metadata: { name: "role-writer" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "role-writer" },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "mallory" }],
    });
    const token = server.addUser("mallory");
    const r = await call(
      server,
      "POST",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/roles",
      {
        metadata: { name: "grab" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
      },
      { token },
    );
    assert.equal(r.status, 403);
    assert.match(
      String((r.body as { message: string }).message),
      /attempting to grant RBAC permissions not currently held: get secrets/,
    );
  });
});
