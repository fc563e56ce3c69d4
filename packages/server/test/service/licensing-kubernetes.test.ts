/**
 * The licensing feature with the Kubernetes launcher, against the in-process contract API server
 * (`@keyward/testkit/kube-apiserver`, built from the API reference: no kube-apiserver runs here):
 * LaunchEnclave creates the enclave's Pod (the licensed app's image, the launch id in its
 * arguments, the server's CA in its environment), the enclave registers over mutual RA-TLS — played
 * here by the test with the licensed app's simulated evidence and a TLS server of its own — the
 * binding is quoted by swtpm and the client connects pinned; revocation deletes the Pod.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { parseTpm2bPublic } from "@keyward/attest/tpm";
import { toPem } from "@keyward/attest/x509";
import { loadManifest, measure } from "@keyward/platform/launcher";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { simulatedPlatformAttester } from "@keyward/platform/sim";
import { type Swtpm, startSwtpm } from "@keyward/platform/tpm";
import { buildCertificate } from "@keyward/platform/x509";
import { Licensing } from "@keyward/proto/keyward/v1";
import { type KubeApiServer, startKubeApiServer } from "@keyward/testkit/kube-apiserver";
import { revokeLicence } from "../../src/features/licensing/licences.ts";
import { LicensingClient } from "../../src/licensing-client.ts";
import { startFixture } from "./helpers.ts";

const NS = "licensing";
const APP = measure(loadManifest(join(process.cwd(), "examples/licensed-app/app.toml")));
let kube: KubeApiServer;
let tpm: Swtpm;
let f: Awaited<ReturnType<typeof startFixture>>;
let port = 0;
let caPem = "";

interface PodLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { containers?: { image?: string; args?: string[]; env?: { name: string; value?: string }[] }[] };
}
const pods = () => kube.api.store.list(kube.resource("pods"), NS) as unknown as PodLike[];

const work = mkdtempSync(join(tmpdir(), "keyward-licensing-k8s-"));

before(async () => {
  kube = await startKubeApiServer({ namespaces: [NS], kubelet: "auto" });
  writeFileSync(join(work, "kubeconfig"), kube.kubeconfig(undefined, NS), { mode: 0o600 });
  tpm = await startSwtpm();
  f = await startFixture([], {
    serviceFlags: {
      licensingListen: "127.0.0.1:0",
      licensingTpm: tpm.uri,
      licensingLauncher: "kubernetes",
      licensingKubernetesNamespace: NS,
      licensingKubeconfig: join(work, "kubeconfig"),
      licensingLauncherId: "test",
      licensingEnclaveImage: "localhost/keyward/licensed-app:0.1.0",
      licensingEnclaveMrenclave: Buffer.from(APP.mrEnclave).toString("hex"),
      licensingAdvertise: "keyward-licensing.licensing.svc:8443",
      licensingTrial: "licensed-app:3600:1",
    },
  });
  port = f.running.ports.licensingPort ?? 0;
  caPem = readFileSync(join(f.dir, "licensing", "tls.crt"), "utf8");
});

after(async () => {
  await f?.service.close();
  await tpm?.stop();
  await kube?.close();
  rmSync(work, { recursive: true, force: true });
  if (f !== undefined) rmSync(f.dir, { recursive: true, force: true });
});

/** The enclave's part, played by the test: a TLS server with its own certificate. */
async function enclaveServer(): Promise<{ der: Uint8Array; port: number; close: () => void }> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = buildCertificate({
    serial: Uint8Array.of(1, ...randomBytes(8)),
    subject: [["CN", "enclave"]],
    issuer: [["CN", "enclave"]],
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    publicKey,
    signingKey: privateKey,
  });
  const server = createServer(
    { key: privateKey.export({ type: "pkcs8", format: "pem" }), cert: toPem(der, "CERTIFICATE") },
    (_req, res) => res.end("hello from the pod"),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { der, port: (server.address() as { port: number }).port, close: () => server.close() };
}

describe("licensing with the Kubernetes launcher (contract API server)", { timeout: 120_000 }, () => {
  it("launches a Pod, binds the certificate the enclave registers, connects pinned, deletes the Pod on revocation", async () => {
    const c = new LicensingClient({ host: "127.0.0.1", port, caPem });
    await c.signUp("pat", "pod password 123");
    await c.login("pat", "pod password 123");
    const [licence] = await c.licences();
    const launched = c.launch(licence?.id ?? "");
    // The Pod appears: the licensed app's image, the launch id among its arguments, the CA in its environment.
    let pod: PodLike | undefined;
    while (pod === undefined) {
      pod = pods()[0];
      await new Promise((r) => setTimeout(r, 20));
    }
    const container = pod.spec?.containers?.[0];
    assert.equal(container?.image, "localhost/keyward/licensed-app:0.1.0");
    const args = container?.args ?? [];
    assert.deepEqual(args.slice(0, 2), ["keyward-licensing.licensing.svc", "8443"]);
    assert.equal(args[3], "pat");
    assert.equal(args[5], "0.0.0.0");
    assert.equal(container?.env?.find((e) => e.name === "KEYWARD_LICENSING_CA")?.value, caPem);
    // The enclave registers its certificate over mutual RA-TLS, with the licensed app's evidence.
    const enclave = await enclaveServer();
    const credential = await issueRaTlsCertificate({
      attester: simulatedPlatformAttester(f.platform, {
        mrEnclave: APP.mrEnclave,
        mrSigner: APP.mrSigner,
        isvProdId: APP.isvProdId,
        isvSvn: APP.isvSvn,
      }),
    });
    const asEnclave = createClient(
      Licensing,
      createGrpcTransport({
        baseUrl: `https://127.0.0.1:${port}`,
        nodeOptions: { ca: caPem, key: credential.keyPem, cert: credential.certificatePem },
      }),
    );
    await asEnclave.registerEnclave({
      launchId: args[2] ?? "",
      certificate: enclave.der,
      port: enclave.port,
      host: "127.0.0.1",
    });
    const e = await launched;
    assert.equal(e.state, "ready");
    assert.equal(e.port, enclave.port);
    // Bound and pinned: the client reaches exactly the registered certificate.
    const b = await c.binding(e.id, new Uint8Array(randomBytes(32)));
    const connected = await c.connect(e.id, { kind: "pinned", names: [parseTpm2bPublic(b.akPublic).name] });
    connected.socket.destroy();
    // Revocation: the sweeper deletes the Pod.
    await revokeLicence(f.store.sql, licence?.id ?? "", Date.now());
    const deadline = Date.now() + 15_000;
    while (pods().length > 0) {
      assert.ok(Date.now() < deadline, "the Pod was deleted after revocation");
      await new Promise((r) => setTimeout(r, 100));
    }
    enclave.close();
  });
});
