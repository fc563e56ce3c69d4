import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Pod,
} from "@kubernetes/client-node";
import { type KubeApiServer, startKubeApiServer } from "./server.ts";
import { call } from "./test-client.ts";

const pod = (name: string, extra: Record<string, unknown> = {}): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "demo" } },
  spec: { containers: [{ name: "app", image: "registry.example/app:1.0" }] },
  ...extra,
});

async function rejected(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as ApiException<string>;
    return { code: err.code, body: JSON.parse(err.body) };
  }
  assert.fail("expected the API server to refuse the request");
}

describe("kube-apiserver contract: create, read, update", { timeout: 60_000 }, () => {
  let server: KubeApiServer;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let objects: KubernetesObjectApi;
  before(async () => {
    server = await startKubeApiServer({ namespaces: ["tenant"] });
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
  });
  after(() => server.close());

  it("serves discovery and version documents", async () => {
    const v1 = await call(server, "GET", "/api/v1");
    assert.equal(v1.status, 200);
    const names = (v1.body as { resources: { name: string }[] }).resources.map((r) => r.name);
    assert.ok(names.includes("pods") && names.includes("pods/status") && names.includes("secrets"));
    const groups = (await call(server, "GET", "/apis")).body as { groups: { name: string }[] };
    assert.deepEqual(groups.groups.map((g) => g.name).sort(), [
      "apps",
      "networking.k8s.io",
      "policy",
      "rbac.authorization.k8s.io",
    ]);
    assert.equal((await call(server, "GET", "/apis/batch/v1")).status, 404);
    assert.equal((await call(server, "GET", "/version", undefined, { token: "nobody" })).status, 200);
  });

  it("answers 401 without a known bearer token", async () => {
    const r = await call(server, "GET", "/api/v1/namespaces/tenant/pods", undefined, { token: "wrong" });
    assert.equal(r.status, 401);
    assert.equal((r.body as { reason: string }).reason, "Unauthorized");
  });

  it("creates with 201, stamps server fields, applies defaults and the initial status", async () => {
    const r = await call(
      server,
      "POST",
      "/api/v1/namespaces/tenant/pods",
      pod("defaults", { status: { phase: "Running" } }),
    );
    assert.equal(r.status, 201);
    const o = r.body as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
      status: Record<string, unknown>;
    };
    assert.match(String(o.metadata.uid), /^[0-9a-f-]{36}$/);
    assert.match(String(o.metadata.resourceVersion), /^\d+$/);
    assert.equal(o.metadata.namespace, "tenant");
    assert.equal(o.spec.restartPolicy, "Always");
    assert.equal(o.spec.serviceAccountName, "default");
    assert.equal((o.spec.containers as { imagePullPolicy: string }[])[0]?.imagePullPolicy, "IfNotPresent");
    assert.deepEqual(
      o.status,
      { phase: "Pending", qosClass: "BestEffort" },
      "status from the body is ignored on create",
    );
  });

  it("answers 409 AlreadyExists with a Status object for a duplicate name", async () => {
    await core.createNamespacedPod({ namespace: "tenant", body: pod("dup") });
    const { code, body } = await rejected(
      core.createNamespacedPod({ namespace: "tenant", body: pod("dup") }),
    );
    assert.equal(code, 409);
    assert.equal(body.kind, "Status");
    assert.equal(body.reason, "AlreadyExists");
    assert.equal(body.message, 'pods "dup" already exists');
    assert.deepEqual(body.details, { name: "dup", kind: "pods" });
  });

  it("answers 404 NotFound for a missing object and for a missing namespace", async () => {
    const { code, body } = await rejected(core.readNamespacedPod({ namespace: "tenant", name: "ghost" }));
    assert.equal(code, 404);
    assert.equal(body.reason, "NotFound");
    assert.equal(body.message, 'pods "ghost" not found');
    const ns = await rejected(core.createNamespacedPod({ namespace: "nowhere", body: pod("x") }));
    assert.equal(ns.code, 404);
    assert.equal(ns.body.message, 'namespaces "nowhere" not found');
  });

  it("answers 409 Conflict to an update carrying a stale resourceVersion", async () => {
    const first = await core.createNamespacedConfigMap({
      namespace: "tenant",
      body: { metadata: { name: "cfg" }, data: { a: "1" } },
    });
    await core.replaceNamespacedConfigMap({
      namespace: "tenant",
      name: "cfg",
      body: { ...first, data: { a: "2" } },
    });
    const { code, body } = await rejected(
      core.replaceNamespacedConfigMap({
        namespace: "tenant",
        name: "cfg",
        body: { ...first, data: { a: "3" } },
      }),
    );
    assert.equal(code, 409);
    assert.equal(body.reason, "Conflict");
    assert.match(String(body.message), /the object has been modified/);
    assert.equal((await core.readNamespacedConfigMap({ namespace: "tenant", name: "cfg" })).data?.a, "2");
  });

  it("answers 422 Invalid with one cause per problem", async () => {
    const { code, body } = await rejected(
      core.createNamespacedPod({
        namespace: "tenant",
        body: {
          metadata: { name: "Bad_Name" },
          spec: {
            containers: [
              {
                name: "app",
                image: "",
                resources: {
                  requests: { "sgx.intel.com/epc": "10Mi" },
                  limits: { "sgx.intel.com/epc": "20Mi" },
                },
              },
            ],
          },
        },
      }),
    );
    assert.equal(code, 422);
    assert.equal(body.reason, "Invalid");
    const fields = ((body.details as { causes: { field: string }[] }).causes ?? [])
      .map((c) => c.field)
      .sort();
    assert.deepEqual(fields, [
      "metadata.name",
      "spec.containers[0].image",
      "spec.containers[0].resources.requests[sgx.intel.com/epc]",
    ]);
  });

  it("answers 422 for a required field the OpenAPI schema names", async () => {
    const r = await call(server, "POST", "/api/v1/namespaces/tenant/services", {
      metadata: { name: "svc" },
      spec: { ports: [{ name: "x" }] },
    });
    assert.equal(r.status, 422);
    assert.match(String((r.body as { message: string }).message), /spec\.ports\[0\]\.port: Required value/);
  });

  it("answers 400 for a field of the wrong type or a malformed quantity (decoding errors)", async () => {
    const wrongType = await call(server, "POST", "/api/v1/namespaces/tenant/pods", {
      metadata: { name: "typed" },
      spec: { containers: [{ name: "app", image: "x:1", ports: [{ containerPort: "8080" }] }] },
    });
    assert.equal(wrongType.status, 400);
    assert.match(
      String((wrongType.body as { message: string }).message),
      /spec\.containers\[0\]\.ports\[0\]\.containerPort: expected integer/,
    );
    const quantity = await call(server, "POST", "/api/v1/namespaces/tenant/pods", {
      metadata: { name: "quantity" },
      spec: { containers: [{ name: "app", image: "x:1", resources: { limits: { memory: "lots" } } }] },
    });
    assert.equal(quantity.status, 400);
  });

  it("refuses unknown fields with fieldValidation=Strict, warns by default, drops them either way", async () => {
    const body = { metadata: { name: "unknown" }, data: { a: "1" }, dta: { typo: "1" } };
    const strict = await call(
      server,
      "POST",
      "/api/v1/namespaces/tenant/configmaps?fieldValidation=Strict",
      body,
    );
    assert.equal(strict.status, 400);
    assert.match(
      String((strict.body as { message: string }).message),
      /strict decoding error: unknown field "dta"/,
    );
    const warn = await call(server, "POST", "/api/v1/namespaces/tenant/configmaps", body);
    assert.equal(warn.status, 201);
    assert.equal(warn.headers.warning, '299 - "unknown field \\"dta\\""');
    assert.equal((warn.body as Record<string, unknown>).dta, undefined);
  });

  it("checks a Deployment's selector against its template and keeps it immutable", async () => {
    const deployment = {
      metadata: { name: "web" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "other" } },
          spec: { containers: [{ name: "web", image: "web:1" }] },
        },
      },
    };
    const { code, body } = await rejected(
      apps.createNamespacedDeployment({ namespace: "tenant", body: deployment }),
    );
    assert.equal(code, 422);
    assert.match(String(body.message), /`selector` does not match template `labels`/);
    deployment.spec.template.metadata.labels.app = "web";
    const created = await apps.createNamespacedDeployment({ namespace: "tenant", body: deployment });
    assert.equal(created.spec?.replicas, 1);
    assert.equal(created.metadata?.generation, 1);
    const changed = {
      ...created,
      spec: { ...created.spec, selector: { matchLabels: { app: "web", tier: "x" } } },
    };
    const immutable = await rejected(
      apps.replaceNamespacedDeployment({ namespace: "tenant", name: "web", body: changed as never }),
    );
    assert.equal(immutable.code, 422);
    assert.match(String(immutable.body.message), /spec\.selector: Invalid value: .*field is immutable/);
  });

  it("refuses a pod whose service account does not exist (ServiceAccount admission)", async () => {
    const { code, body } = await rejected(
      core.createNamespacedPod({
        namespace: "tenant",
        body: {
          ...pod("sa"),
          spec: { serviceAccountName: "missing", containers: [{ name: "a", image: "a:1" }] },
        },
      }),
    );
    assert.equal(code, 403);
    assert.match(String(body.message), /serviceaccount "missing" not found/);
  });

  it("names generated objects from generateName and leaves dry runs unstored", async () => {
    const r = await call(server, "POST", "/api/v1/namespaces/tenant/configmaps", {
      metadata: { generateName: "gen-" },
    });
    assert.match(
      String((r.body as { metadata: { name: string } }).metadata.name),
      /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/,
    );
    const dry = await call(server, "POST", "/api/v1/namespaces/tenant/configmaps?dryRun=All", {
      metadata: { name: "dry" },
    });
    assert.equal(dry.status, 201);
    assert.equal((await call(server, "GET", "/api/v1/namespaces/tenant/configmaps/dry")).status, 404);
  });

  it("server-side apply creates, then merges, and requires a field manager", async () => {
    const spec = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "applied", namespace: "tenant" },
      data: { a: "1" },
    };
    const created = await objects.patch(
      spec,
      undefined,
      undefined,
      "keyward-test",
      true,
      PatchStrategy.ServerSideApply,
    );
    assert.equal((created as { data: Record<string, string> }).data.a, "1");
    const updated = await objects.patch(
      { ...spec, data: { a: "2" } },
      undefined,
      undefined,
      "keyward-test",
      true,
      PatchStrategy.ServerSideApply,
    );
    assert.equal((updated as { data: Record<string, string> }).data.a, "2");
    const noManager = await call(server, "PATCH", "/api/v1/namespaces/tenant/configmaps/applied", spec, {
      contentType: "application/apply-patch+yaml",
    });
    assert.equal(noManager.status, 400);
    const unknown = await call(
      server,
      "PATCH",
      "/api/v1/namespaces/tenant/configmaps/applied?fieldManager=x",
      { ...spec, extra: 1 },
      { contentType: "application/apply-patch+yaml" },
    );
    assert.equal(unknown.status, 400, "apply decodes strictly");
  });

  it("applies merge and JSON patches, and answers 415 to strategic merge patches", async () => {
    await call(server, "POST", "/api/v1/namespaces/tenant/configmaps", {
      metadata: { name: "patched" },
      data: { a: "1", b: "2" },
    });
    const merge = await call(
      server,
      "PATCH",
      "/api/v1/namespaces/tenant/configmaps/patched",
      { data: { a: null, c: "3" } },
      { contentType: "application/merge-patch+json" },
    );
    assert.deepEqual((merge.body as { data: unknown }).data, { b: "2", c: "3" });
    const json = await call(
      server,
      "PATCH",
      "/api/v1/namespaces/tenant/configmaps/patched",
      [{ op: "test", path: "/data/b", value: "9" }],
      { contentType: "application/json-patch+json" },
    );
    assert.equal(json.status, 422);
    const smp = await call(
      server,
      "PATCH",
      "/api/v1/namespaces/tenant/configmaps/patched",
      { data: {} },
      { contentType: "application/strategic-merge-patch+json" },
    );
    assert.equal(smp.status, 415);
  });

  it("writes status only through the status subresource", async () => {
    await core.createNamespacedPod({ namespace: "tenant", body: pod("status") });
    const current = await core.readNamespacedPod({ namespace: "tenant", name: "status" });
    const viaMain = await core.replaceNamespacedPod({
      namespace: "tenant",
      name: "status",
      body: { ...current, status: { phase: "Running" } },
    });
    assert.equal(viaMain.status?.phase, "Pending");
    const viaStatus = await core.replaceNamespacedPodStatus({
      namespace: "tenant",
      name: "status",
      body: { ...viaMain, status: { phase: "Running" } },
    });
    assert.equal(viaStatus.status?.phase, "Running");
  });
});
