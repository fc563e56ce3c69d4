import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isKeywardError } from "@keyward/attest/errors";
import { type KubeApiServer, startKubeApiServer } from "@keyward/testkit/kube-apiserver";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { deploymentOwner, KubernetesLauncher, type KubernetesLauncherOptions } from "./kubernetes.ts";
import { labelHash, podName } from "./kubernetes-pod.ts";
import { type LaunchRequest, stopAll } from "./launcher.ts";

const NS = "licensing";
const ADMIN = {
  user: { name: "admin", groups: ["system:masters"] },
  dryRun: false,
  fieldValidation: "Strict" as const,
};
const request = (userId: string, licenceId = "lic-1", extra: Partial<LaunchRequest> = {}): LaunchRequest => ({
  userId,
  licenceId,
  enclave: { image: "registry.example/licensed-app:1.2.3", port: 8443, env: { APP_MODE: "production" } },
  ...extra,
});

function kubeConfig(server: KubeApiServer, token?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig(token, NS));
  return kc;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

async function rejection(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; detail: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    assert.ok(isKeywardError(e), `expected a KeywardError, got ${String(e)}`);
    return { code: e.code, message: e.message, detail: (e.detail ?? {}) as Record<string, unknown> };
  }
  assert.fail("expected the launcher to fail");
}

describe("Kubernetes enclave launcher against the contract API server", { timeout: 120_000 }, () => {
  let manual: KubeApiServer;
  let auto: KubeApiServer;
  let gone: KubeApiServer;
  before(async () => {
    manual = await startKubeApiServer({ namespaces: [NS] });
    auto = await startKubeApiServer({ namespaces: [NS], kubelet: "auto" });
    gone = await startKubeApiServer({ namespaces: [NS], watchExpiredAsHttpStatus: true });
  });
  after(async () => {
    await manual.close();
    await auto.close();
    await gone.close();
  });
  const launcher = (server: KubeApiServer, extra: Partial<KubernetesLauncherOptions> = {}) =>
    new KubernetesLauncher({ kubeConfig: kubeConfig(server), namespace: NS, launcherId: "test", ...extra });
  const pods = (server: KubeApiServer) => server.api.store.list(server.resource("pods"), NS);

  it("creates one restricted pod per user, with SGX resources on hardware, and resolves when it is Ready", async () => {
    const r = request("alice@example.com", "lic-1", { enclave: { ...request("x").enclave, hardware: true } });
    const name = podName("test", r);
    const launching = launcher(manual).launch(r);
    await until(() => manual.api.store.get(manual.resource("pods"), NS, name) !== undefined);
    const pending = manual.api.get(manual.resource("pods"), NS, name);
    assert.equal((pending.status as { phase: string }).phase, "Pending");
    manual.kubelet.run(NS, name);
    const instance = await launching;
    assert.equal(instance.state, "ready");
    assert.equal(instance.userId, "alice@example.com");
    assert.equal(instance.licenceId, "lic-1");
    assert.match(instance.address?.host ?? "", /^10\.244\./);
    assert.equal(instance.address?.port, 8443);

    const pod = manual.api.get(manual.resource("pods"), NS, name) as unknown as V1Pod;
    assert.equal(pod.metadata?.labels?.["keyward.dev/user"], labelHash("user", "alice@example.com"));
    assert.equal(pod.metadata?.labels?.["keyward.dev/licence"], labelHash("licence", "lic-1"));
    assert.equal(pod.metadata?.annotations?.["keyward.dev/user-id"], "alice@example.com");
    const c = pod.spec?.containers[0];
    for (const k of ["limits", "requests"] as const) {
      assert.equal(c?.resources?.[k]?.["sgx.intel.com/epc"], "64Mi");
      assert.equal(c?.resources?.[k]?.["sgx.intel.com/enclave"], "1");
      assert.equal(c?.resources?.[k]?.["sgx.intel.com/provision"], "1");
    }
    assert.deepEqual(pod.spec?.nodeSelector, { "intel.feature.node.kubernetes.io/sgx": "true" });
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.equal(pod.spec?.securityContext?.runAsNonRoot, true);
    assert.equal(pod.spec?.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.deepEqual(c?.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    assert.equal(pod.spec?.restartPolicy, "Never");
  });

  it("requests no SGX resources in simulation", async () => {
    const instance = await launcher(auto).launch(request("sim-user"));
    const pod = auto.api.get(auto.resource("pods"), NS, instance.id) as unknown as {
      spec: { containers: { resources: { limits: object } }[] };
    };
    assert.deepEqual(Object.keys(pod.spec.containers[0]?.resources.limits ?? {}).sort(), ["cpu", "memory"]);
  });

  it("deletes the pod on revocation and resolves once it is gone", async () => {
    const l = launcher(auto);
    const a = await l.launch(request("bob", "lic-revoked"));
    const b = await l.launch(request("bob", "lic-revoked", { instance: "1" }));
    const kept = await l.launch(request("bob", "lic-other"));
    assert.notEqual(a.id, b.id);
    const stopped = await stopAll(l, { licenceId: "lic-revoked" }, "revoked");
    assert.deepEqual(stopped.map((i) => i.id).sort(), [a.id, b.id].sort());
    const left = pods(auto).map((p) => p.metadata.name);
    assert.ok(!left.includes(a.id) && !left.includes(b.id));
    assert.ok(left.includes(kept.id));
    await l.stop(a.id, "revoked"); // already gone: not an error
  });

  it("reuses the running enclave when the same launch is repeated (409 AlreadyExists)", async () => {
    const l = launcher(auto);
    const first = await l.launch(request("carol"));
    const again = await l.launch(request("carol"));
    assert.equal(again.id, first.id);
    assert.equal(pods(auto).filter((p) => p.metadata.name === first.id).length, 1);
    assert.ok(
      auto.requests.some((q) => q.method === "POST" && q.code === 409),
      "the second create met 409",
    );
  });

  it("refuses a same-named pod that is not this enclave (ERR_LAUNCHER_CONFLICT)", async () => {
    const r = request("dave");
    await auto.api.create(
      auto.resource("pods"),
      NS,
      {
        metadata: { name: podName("test", r) },
        spec: { containers: [{ name: "squatter", image: "other:1" }] },
      },
      ADMIN,
    );
    const e = await rejection(launcher(auto).launch(r));
    assert.equal(e.code, "ERR_LAUNCHER_CONFLICT");
    assert.ok(
      pods(auto).some((p) => p.metadata.name === podName("test", r)),
      "someone else's pod is left alone",
    );
  });

  for (const form of ["an ERROR event", "an HTTP status"] as const)
    it(`re-lists and resumes when its watch gets 410 Gone after compaction (as ${form})`, async () => {
      const server = form === "an ERROR event" ? manual : gone;
      const r = request(`erin-${form}`);
      const name = podName("test", r);
      const seen = server.requests.length;
      const watches = () => server.requests.slice(seen).filter((q) => q.query.includes("watch=true"));
      const lists = () =>
        server.requests
          .slice(seen)
          .filter(
            (q) => q.method === "GET" && q.query.includes("fieldSelector") && !q.query.includes("watch"),
          );
      const launching = launcher(server).launch(r);
      await until(() => watches().length === 1);
      // Something else changes, then history is compacted past the launcher's resourceVersion.
      server.api.create(server.resource("configmaps"), NS, { metadata: { generateName: "noise-" } }, ADMIN);
      server.compact();
      server.closeWatches(); // the stream ends; resuming from the compacted version meets 410
      await until(() => watches().length >= 3);
      assert.equal(watches()[1]?.code, form === "an ERROR event" ? 200 : 410);
      assert.ok(lists().length >= 2, "a fresh list after the 410");
      server.kubelet.run(NS, name);
      assert.equal((await launching).state, "ready");
    });

  it("fails with ERR_LAUNCHER_START_FAILED when the image cannot be pulled, and removes the pod", async () => {
    const r = request("frank");
    const name = podName("test", r);
    const launching = launcher(manual).launch(r);
    await until(() => manual.api.store.get(manual.resource("pods"), NS, name) !== undefined);
    manual.kubelet.waiting(NS, name, "ImagePullBackOff", "Back-off pulling image");
    const e = await rejection(launching);
    assert.equal(e.code, "ERR_LAUNCHER_START_FAILED");
    assert.equal(e.detail.reason, "ImagePullBackOff");
    await until(() => manual.api.store.get(manual.resource("pods"), NS, name) === undefined);
  });

  it("fails with ERR_LAUNCHER_TIMEOUT when the pod never becomes Ready, and removes it", async () => {
    const r = request("grace");
    const e = await rejection(launcher(manual, { readyTimeoutMs: 300 }).launch(r));
    assert.equal(e.code, "ERR_LAUNCHER_TIMEOUT");
    await until(() => manual.api.store.get(manual.resource("pods"), NS, podName("test", r)) === undefined);
  });

  it("collects orphans after a restart: inactive users' and dead enclaves go, others stay", async () => {
    const before = launcher(auto, { launcherId: "restart" });
    const active = await before.launch(request("heidi", "lic-a"));
    const inactive = await before.launch(request("ivan", "lic-b"));
    const dead = await before.launch(request("heidi", "lic-a", { instance: "crashed" }));
    auto.kubelet.fail(NS, dead.id, "Error", "exited 1");
    const foreign = await launcher(auto, { launcherId: "another-installation" }).launch(
      request("ivan", "lic-b"),
    );
    const after = launcher(auto, { launcherId: "restart" }); // a new process, same installation
    const collected = await after.collectOrphans((i) => i.userId === "heidi");
    assert.deepEqual(collected.map((i) => i.id).sort(), [inactive.id, dead.id].sort());
    const left = pods(auto).map((p) => p.metadata.name);
    assert.ok(left.includes(active.id) && left.includes(foreign.id));
    assert.ok(!left.includes(inactive.id) && !left.includes(dead.id));
    assert.deepEqual(
      (await after.list({ userId: "heidi" })).map((i) => i.id),
      [active.id],
    );
  });

  it("garbage-collects its enclaves with the licensing Deployment that owns them", async () => {
    const admin = ADMIN;
    auto.api.create(
      auto.resource("deployments"),
      NS,
      {
        metadata: { name: "keyward-licensing" },
        spec: {
          selector: { matchLabels: { app: "l" } },
          template: {
            metadata: { labels: { app: "l" } },
            spec: { containers: [{ name: "l", image: "l:1" }] },
          },
        },
      },
      admin,
    );
    const kc = kubeConfig(auto);
    const owner = await deploymentOwner(kc, NS, "keyward-licensing");
    const instance = await launcher(auto, { launcherId: "owned", owner }).launch(request("judy"));
    const res = await fetchDelete(auto, `/apis/apps/v1/namespaces/${NS}/deployments/keyward-licensing`);
    assert.equal(res, 200);
    await auto.settle();
    assert.ok(!pods(auto).some((p) => p.metadata.name === instance.id));
    const missing = await rejection(deploymentOwner(kc, NS, "keyward-licensing"));
    assert.equal(missing.code, "ERR_LAUNCHER_NOT_FOUND");
  });

  it("says which RBAC permission is missing (403 → ERR_LAUNCHER_FORBIDDEN)", async () => {
    const grant = (server: KubeApiServer, name: string, verbs: string[]) => {
      server.api.create(server.resource("serviceaccounts"), NS, { metadata: { name } }, ADMIN);
      server.api.create(
        server.resource("roles"),
        NS,
        { metadata: { name }, rules: [{ apiGroups: [""], resources: ["pods"], verbs }] },
        ADMIN,
      );
      server.api.create(
        server.resource("rolebindings"),
        NS,
        {
          metadata: { name },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
          subjects: [{ kind: "ServiceAccount", name, namespace: NS }],
        },
        ADMIN,
      );
      return server.addUser(`system:serviceaccount:${NS}:${name}`, ["system:serviceaccounts"]);
    };
    const as = (server: KubeApiServer, token: string) =>
      new KubernetesLauncher({ kubeConfig: kubeConfig(server, token), namespace: NS, launcherId: "rbac" });
    const ALL = ["create", "get", "list", "watch", "delete"];

    const full = as(auto, grant(auto, "full", ALL));
    const ok = await full.launch(request("kim"));
    await full.stop(ok.id, "logout");

    // On the manual server the pod stays Pending, so the launcher must watch it.
    const noWatch = await rejection(
      as(manual, grant(manual, "no-watch", ["create", "get", "list", "delete"])).launch(request("leo")),
    );
    assert.equal(noWatch.code, "ERR_LAUNCHER_FORBIDDEN");
    assert.deepEqual(
      [noWatch.detail.verb, noWatch.detail.resource, noWatch.detail.namespace],
      ["watch", "pods", NS],
    );
    assert.match(noWatch.message, /grant verb "watch" on resource "pods"/);
    assert.ok(
      !pods(manual).some((p) => p.metadata.name === podName("rbac", request("leo"))),
      "the pod it created is removed",
    );

    const noCreate = await rejection(
      as(auto, grant(auto, "no-create", ["get", "list", "watch", "delete"])).launch(request("mia")),
    );
    assert.equal(noCreate.code, "ERR_LAUNCHER_FORBIDDEN");
    assert.equal(noCreate.detail.verb, "create");

    const noDelete = as(auto, grant(auto, "no-delete", ["create", "get", "list", "watch"]));
    const started = await noDelete.launch(request("ned"));
    const cannotStop = await rejection(noDelete.stop(started.id, "revoked"));
    assert.equal(cannotStop.code, "ERR_LAUNCHER_FORBIDDEN");
    assert.equal(cannotStop.detail.verb, "delete");

    const otherNs = await rejection(
      new KubernetesLauncher({
        kubeConfig: kubeConfig(auto, grant(auto, "elsewhere", ALL)),
        namespace: "default",
        launcherId: "rbac",
      }).list(),
    );
    assert.equal(otherNs.code, "ERR_LAUNCHER_FORBIDDEN");
    assert.equal(otherNs.detail.namespace, "default");
  });

  it("maps credentials, namespaces, unreachable servers and bad settings to their codes", async () => {
    const badToken = new KubernetesLauncher({
      kubeConfig: kubeConfig(auto, "not-a-token"),
      namespace: NS,
      launcherId: "x",
    });
    assert.equal((await rejection(badToken.list())).code, "ERR_LAUNCHER_UNAUTHENTICATED");
    const noNs = new KubernetesLauncher({
      kubeConfig: kubeConfig(auto),
      namespace: "absent",
      launcherId: "x",
    });
    assert.equal((await rejection(noNs.launch(request("nick")))).code, "ERR_LAUNCHER_NOT_FOUND");
    const gone = await startKubeApiServer();
    const kc = kubeConfig(gone);
    await gone.close();
    const unreachable = new KubernetesLauncher({ kubeConfig: kc, namespace: NS, launcherId: "x" });
    assert.equal((await rejection(unreachable.launch(request("olga")))).code, "ERR_LAUNCHER_UNAVAILABLE");
    assert.throws(() => launcher(auto, { namespace: "Not_A_Namespace" }), { code: "ERR_LAUNCHER_CONFIG" });
    assert.throws(() => launcher(auto, { epc: "lots" }), { code: "ERR_LAUNCHER_CONFIG" });
    const badImage = await rejection(
      launcher(auto).launch({ ...request("pat"), enclave: { image: "has spaces", port: 1 } }),
    );
    assert.equal(badImage.code, "ERR_LAUNCHER_CONFIG");
    const badPort = await rejection(
      launcher(auto).launch({ ...request("pat"), enclave: { image: "a:1", port: 70000 } }),
    );
    assert.equal(badPort.detail.field, "enclave.port");
  });
});

async function fetchDelete(server: KubeApiServer, path: string): Promise<number> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server.url),
      { method: "DELETE", ca: server.caPem, headers: { authorization: `Bearer ${server.adminToken}` } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
