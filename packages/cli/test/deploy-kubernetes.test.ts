/**
 * `keyward deploy kubernetes`: the printed manifests are applied (server-side apply, strict field
 * validation) to the in-process Kubernetes API server, which validates each against the Kubernetes
 * OpenAPI definitions and the API's own rules; then the deployment's invariants are checked on what
 * was printed: replicas, no secret in the environment, probes, the restricted security profile, SGX
 * resources, Services and PDB selecting the pods, NetworkPolicies keeping the Admin listener to
 * labelled operator pods, and the licensing server's Role limited to pods in its namespace.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadServiceConfig, readConfigFile } from "@keyward/server";
import {
  type KubeApiServer,
  matchesLabelSelector,
  startKubeApiServer,
} from "@keyward/testkit/kube-apiserver";
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { CliRunner } from "./harness/cli-runner.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: printed manifests are walked as loose JSON by the assertions
type Obj = Record<string, any>;
const runner = new CliRunner();
let server: KubeApiServer;
let objects: KubernetesObjectApi;
before(async () => {
  server = await startKubeApiServer();
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  objects = KubernetesObjectApi.makeApiClient(kc);
});
after(async () => {
  runner.stop();
  await server.close();
});

async function render(...flags: string[]): Promise<Obj[]> {
  const r = await runner.run(["deploy", "kubernetes", ...flags]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null);
}

/** Applies every document as kubectl apply --server-side would; each must be accepted. */
async function apply(docs: readonly Obj[]): Promise<void> {
  for (const doc of docs)
    await objects.patch(doc, undefined, undefined, "keyward-test", true, PatchStrategy.ServerSideApply);
}

const one = (docs: readonly Obj[], kind: string, name?: string): Obj => {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind} ${name ?? ""}`);
  return found[0] as Obj;
};

// Whether NetworkPolicies let a peer reach `port` on pods with `podLabels` in namespace `ns`
// (the NetworkPolicy semantics: selected pods are isolated; a rule allows listed peers and ports).
function ingressAllowed(
  policies: readonly Obj[],
  target: { ns: string; podLabels: Record<string, string>; ports: Record<string, number> },
  peer: { ns: string; nsLabels: Record<string, string>; podLabels: Record<string, string> },
  port: number,
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.metadata.namespace === target.ns &&
      matchesLabelSelector(p.spec.podSelector, target.podLabels) &&
      p.spec.policyTypes.includes("Ingress"),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.ingress ?? []).some((rule: Obj) => {
      const portOk =
        rule.ports === undefined ||
        rule.ports.some((q: Obj) => (typeof q.port === "number" ? q.port : target.ports[q.port]) === port);
      const peers: Obj[] | undefined = rule.from;
      const peerOk =
        peers === undefined ||
        peers.some((f) => {
          const nsOk =
            f.namespaceSelector === undefined
              ? peer.ns === target.ns
              : matchesLabelSelector(f.namespaceSelector, peer.nsLabels);
          const podOk = f.podSelector === undefined || matchesLabelSelector(f.podSelector, peer.podLabels);
          return nsOk && podOk;
        });
      return portOk && peerOk;
    }),
  );
}

function podInvariants(deployment: Obj): void {
  const pod = deployment.spec.template.spec;
  assert.ok(matchesLabelSelector(deployment.spec.selector, deployment.spec.template.metadata.labels));
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  for (const c of pod.containers) {
    // No secret in the environment: only literal settings or the Downward API, never a Secret.
    assert.equal(c.envFrom, undefined, `${c.name}: envFrom`);
    for (const e of c.env ?? []) {
      assert.equal(e.valueFrom?.secretKeyRef, undefined, `${c.name}: ${e.name} from a Secret`);
      assert.doesNotMatch(String(e.value ?? ""), /postgres(ql)?:\/\/|PRIVATE KEY|password/i);
    }
    for (const a of c.args ?? [])
      assert.doesNotMatch(String(a), /postgres(ql)?:\/\/|password/i, "no secret in argv");
  }
}

describe("keyward deploy kubernetes", { timeout: 120_000 }, () => {
  it("prints keyward serve's manifests, which the API server accepts and which keep their invariants", async () => {
    const docs = await render(
      "--replicas",
      "3",
      "--postgres",
      "postgres://keyward@db.keyward.svc:5432/keyward",
    );
    await apply(docs);
    await apply(docs); // applying again changes nothing and fails nothing
    const kinds = docs.map((d) => d.kind);
    assert.deepEqual(kinds, [
      "Namespace",
      "ServiceAccount",
      "Secret",
      "Deployment",
      "Service",
      "Service",
      "Service",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "NetworkPolicy",
      "NetworkPolicy",
      "NetworkPolicy",
    ]);
    const deployment = one(docs, "Deployment");
    assert.equal(deployment.spec.replicas, 3);
    podInvariants(deployment);
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(
      [
        c.securityContext.readOnlyRootFilesystem,
        c.securityContext.allowPrivilegeEscalation,
        c.securityContext.capabilities.drop,
      ],
      [true, false, ["ALL"]],
    );
    const ports = Object.fromEntries(c.ports.map((p: Obj) => [p.name, p.containerPort]));
    assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "ops" });
    assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "ops" });
    assert.ok(c.startupProbe.httpGet !== undefined);
    assert.ok(c.args.includes("--simulation"));
    // Every secret arrives as a file from a Secret volume.
    const secretVolumes = pod.volumes
      .filter((v: Obj) => v.secret !== undefined)
      .map((v: Obj) => v.secret.secretName)
      .sort();
    assert.deepEqual(secretVolumes, [
      "keyward-admin-tls",
      "keyward-master-key",
      "keyward-postgres",
      "keyward-sim",
    ]);
    assert.ok(c.args.includes("--database-url-file=/var/run/secrets/keyward/postgres/url"));
    assert.equal(one(docs, "Secret").stringData.url, "postgres://keyward@db.keyward.svc:5432/keyward");
    // Services and the PDB select exactly these pods, on ports the container names.
    for (const svc of docs.filter((d) => d.kind === "Service")) {
      assert.ok(
        matchesLabelSelector(
          { matchLabels: svc.spec.selector },
          pod.metadata?.labels ?? deployment.spec.template.metadata.labels,
        ),
      );
      for (const p of svc.spec.ports)
        assert.ok(ports[p.targetPort] !== undefined, `${svc.metadata.name} targets ${p.targetPort}`);
    }
    assert.deepEqual(
      docs.filter((d) => d.kind === "Service").map((s) => s.spec.ports[0].port),
      [7443, 7444, 9090],
    );
    assert.ok(
      matchesLabelSelector(
        one(docs, "PodDisruptionBudget").spec.selector,
        deployment.spec.template.metadata.labels,
      ),
    );
    // The Admin listener is private: only labelled operator pods in labelled namespaces reach it.
    const policies = docs.filter((d) => d.kind === "NetworkPolicy");
    const target = { ns: "keyward", podLabels: deployment.spec.template.metadata.labels, ports };
    const operator = {
      ns: "ops",
      nsLabels: { "keyward.dev/admin-access": "true" },
      podLabels: { "keyward.dev/admin-access": "true" },
    };
    const stranger = { ns: "apps", nsLabels: {}, podLabels: {} };
    assert.equal(ingressAllowed(policies, target, operator, 7444), true);
    assert.equal(
      ingressAllowed(policies, target, { ...operator, podLabels: {} }, 7444),
      false,
      "unlabelled pod in the operators' namespace",
    );
    assert.equal(
      ingressAllowed(policies, target, { ...operator, nsLabels: {} }, 7444),
      false,
      "labelled pod elsewhere",
    );
    assert.equal(
      ingressAllowed(policies, target, { ns: "keyward", nsLabels: {}, podLabels: {} }, 7444),
      false,
      "a pod beside the server",
    );
    assert.equal(
      ingressAllowed(policies, target, stranger, 7443),
      true,
      "workloads reach the RA-TLS service",
    );
    assert.equal(ingressAllowed(policies, target, stranger, 9090), false);
    assert.equal(
      ingressAllowed(
        policies,
        target,
        { ns: "monitoring", nsLabels: { "kubernetes.io/metadata.name": "monitoring" }, podLabels: {} },
        9090,
      ),
      true,
    );
    assert.equal(ingressAllowed(policies, target, operator, 9090), false);
  });

  it("requests SGX device resources on SGX nodes in hardware mode, and runs without --simulation", async () => {
    const docs = await render(
      "--hardware",
      "--epc",
      "256Mi",
      "--pccs-url",
      "https://pccs.internal:8081",
      "--namespace",
      "keyward-hw",
      "--grpc-probe",
    );
    await apply(docs);
    const pod = one(docs, "Deployment").spec.template.spec;
    const c = pod.containers[0];
    for (const k of ["requests", "limits"])
      assert.deepEqual(
        [
          c.resources[k]["sgx.intel.com/epc"],
          c.resources[k]["sgx.intel.com/enclave"],
          c.resources[k]["sgx.intel.com/provision"],
        ],
        ["256Mi", "1", "1"],
      );
    assert.deepEqual(pod.nodeSelector, { "intel.feature.node.kubernetes.io/sgx": "true" });
    assert.ok(!c.args.includes("--simulation"));
    assert.deepEqual(c.args.slice(-2), ["--pccs-url", "https://pccs.internal:8081"]);
    assert.deepEqual(c.startupProbe.grpc, { port: 9095 });
    assert.ok(c.args.includes("--grpc-health-listen=0.0.0.0:9095"));
    assert.ok(c.ports.some((p: Obj) => p.name === "grpc-health" && p.containerPort === 9095));
    assert.ok(!pod.volumes.some((v: Obj) => v.name === "simulation"));
    assert.ok(!docs.some((d) => d.kind === "Secret"), "no --postgres: the Secret is the operator's");
  });

  it("prints the licensing server with a Role limited to pods in its namespace, which the API server enforces", async () => {
    const docs = await render("--licensing");
    await apply(docs);
    assert.deepEqual(
      docs.map((d) => d.kind),
      ["Namespace", "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service"],
    );
    const role = one(docs, "Role");
    assert.deepEqual(role.rules, [
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete"] },
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["keyward-licensing"],
        verbs: ["get"],
      },
    ]);
    const deployment = one(docs, "Deployment");
    podInvariants(deployment);
    const c = deployment.spec.template.spec.containers[0];
    assert.equal(c.resources.limits["squat.ai/tpmrm0"], "1");
    assert.ok(c.args.includes("--tpm=device:/dev/tpmrm0"));
    // Act as the server's service account: pods in its namespace yes, anything else no.
    const token = server.addUser("system:serviceaccount:keyward-licensing:keyward-licensing", [
      "system:serviceaccounts",
    ]);
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig(token));
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const pod = { metadata: { name: "enclave" }, spec: { containers: [{ name: "e", image: "e:1" }] } };
    await core.createNamespacedPod({ namespace: "keyward-licensing", body: pod });
    await apps.readNamespacedDeployment({ namespace: "keyward-licensing", name: "keyward-licensing" });
    const denied = async (p: Promise<unknown>) =>
      assert.equal(
        await p.then(
          () => 0,
          (e: { code: number }) => e.code,
        ),
        403,
      );
    await denied(core.createNamespacedPod({ namespace: "default", body: pod }));
    await denied(core.listNamespacedSecret({ namespace: "keyward-licensing" }));
    await denied(apps.readNamespacedDeployment({ namespace: "keyward", name: "keyward" }));
    await denied(core.patchNamespacedPod({ namespace: "keyward-licensing", name: "enclave", body: [] }));
  });

  it("gives the licensing server a swtpm sidecar, or the host's device (privileged), on request", async () => {
    const swtpm = await render("--licensing", "--tpm", "swtpm", "--namespace", "licensing-dev");
    await apply(swtpm);
    const spec = one(swtpm, "Deployment").spec.template.spec;
    assert.deepEqual(
      spec.containers.map((c: Obj) => c.name),
      ["licensing", "swtpm"],
    );
    assert.ok(spec.containers[0].args.includes("--tpm=swtpm:127.0.0.1:2321"));
    assert.equal(spec.containers[0].resources.limits["squat.ai/tpmrm0"], undefined);
    const host = await render("--licensing", "--tpm", "hostpath", "--namespace", "licensing-host");
    await apply(host);
    const hostSpec = one(host, "Deployment").spec.template.spec;
    assert.deepEqual(hostSpec.volumes.find((v: Obj) => v.name === "tpmrm0").hostPath, {
      path: "/dev/tpmrm0",
      type: "CharDevice",
    });
    assert.equal(hostSpec.containers[0].securityContext.privileged, true);
    assert.equal(one(host, "Namespace").metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
  });

  it("mounts the configuration file from a ConfigMap with --config-map, and only then", async () => {
    const plain = one(await render(), "Deployment").spec.template.spec;
    assert.ok(!plain.containers[0].args.some((a: string) => a.startsWith("--config")));
    assert.ok(!plain.volumes.some((v: Obj) => v.configMap !== undefined));

    // The ConfigMap an operator creates (kubectl create configmap keyward-config --from-file=keyward.yaml).
    const yaml = "logLevel: warn\notpMaxFailures: 7\nvaultAddr: https://vault.internal:8200\n";
    const dir = mkdtempSync(join(tmpdir(), "keyward-config-map-"));
    try {
      writeFileSync(join(dir, "keyward.yaml"), yaml);
      // What the pod will read is a valid configuration file.
      const config = loadServiceConfig(dir, {}, {}, readConfigFile(join(dir, "keyward.yaml")));
      assert.equal(config.logLevel, "warn");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const docs = await render("--config-map", "keyward-config");
    await apply([
      ...docs.filter((d) => d.kind === "Namespace"),
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "keyward-config", namespace: "keyward" },
        data: { "keyward.yaml": yaml },
      },
      ...docs.filter((d) => d.kind !== "Namespace"),
    ]);
    const deployment = one(docs, "Deployment");
    podInvariants(deployment);
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0];
    assert.ok(c.args.includes("--config=/etc/keyward/keyward.yaml"));
    assert.deepEqual(
      c.volumeMounts.find((m: Obj) => m.name === "config"),
      { name: "config", mountPath: "/etc/keyward", readOnly: true },
    );
    assert.deepEqual(
      pod.volumes.find((v: Obj) => v.name === "config"),
      {
        name: "config",
        configMap: { name: "keyward-config", items: [{ key: "keyward.yaml", path: "keyward.yaml" }] },
      },
    );
    const bad = await runner.run(["deploy", "kubernetes", "--config-map", "Not_A_Name"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--config-map: must be a ConfigMap name/);
  });

  it("prints one v1 List with --json, holding the same objects", async () => {
    const yamlDocs = await render("--replicas", "4");
    const r = await runner.run(["deploy", "kubernetes", "--json", "--replicas", "4"]);
    assert.equal(r.status, 0);
    const list = JSON.parse(r.stdout);
    assert.equal(list.kind, "List");
    assert.deepEqual(list.items, yamlDocs);
  });

  it("refuses a password on the command line and flags of the other output (exit 2)", async () => {
    for (const [args, pattern] of [
      [["--postgres", "postgres://keyward:hunter2@db/keyward"], /holds a password/],
      [["--postgres", "postgres://db/keyward?password=x"], /holds a password/],
      [["--replicas", "0"], /--replicas/],
      [["--replicas", "two"], /--replicas/],
      [["--licensing", "--hardware"], /--hardware applies only without --licensing/],
      [["--tpm", "swtpm"], /--tpm applies only with --licensing/],
      [["--namespace", "Not_Valid"], /--namespace/],
      [["--admin-from-pod", "nolabel"], /LABEL=VALUE/],
      [["--epc", "lots"], /--epc/],
    ] as const) {
      const r = await runner.run(["deploy", "kubernetes", ...args]);
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stdout, "");
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /hunter2/, "the password is not echoed");
    }
  });

  it("keeps the Helm chart generated from the same source (deploy/helm/keyward is up to date)", () => {
    const r = spawnSync(process.execPath, ["tools/gen-helm-chart.ts", "--check"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
  });
});
