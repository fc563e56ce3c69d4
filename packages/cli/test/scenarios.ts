/**
 * One accepting (exit 0) and, where the command can reject, one rejecting (exit 1) invocation of
 * every command, over real vectors and a simulated platform made for the run. The CLI's
 * convention tests run them all and fail for a registered command that has no entry here, so a
 * new command cannot skip them; the hostile-input test derives its base arguments from them.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { p256FromSpki } from "@keyward/attest/crypto";
import { parseKeyBundle } from "@keyward/attest/signer";
import { launchEnclave, loadManifest, measure } from "@keyward/platform/launcher";
import { encryptToAttestedKey } from "@keyward/platform/signer";
import { initSimPlatform } from "@keyward/platform/sim";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The repository's test vectors. */
export const V = here("../../attest/test/vectors/");
/** The example enclave app's manifest. */
export const EXAMPLE = here("../../../examples/hello-enclave/app.toml");

/** The IoT gateway enclave app's manifest (attested signing keys). */
export const GATEWAY = here("../../../examples/iot-gateway/app.toml");

/** An invocation: its arguments (after `keyward`), and what must have run before it. */
export interface Invocation {
  readonly args: readonly string[];
  /** Invocations run first, each expected to exit 0. */
  readonly before?: readonly (readonly string[])[];
  /** A `serve`: stopped with SIGTERM once it runs. */
  readonly stop?: boolean;
  /** The exit status, when it is not the kind's (0 for ok, 1 for rejected). */
  readonly status?: number;
}

/** A command's scenarios. */
export interface Scenario {
  readonly ok?: Invocation;
  readonly rejected?: Invocation;
  /** Where the accepting run is tested instead (it needs a device or takes long). */
  readonly okCoveredBy?: string;
  /** The text form (no --json) can be run again without side effects. */
  readonly repeatable?: boolean;
}

/** Files and directories the scenarios use. */
export interface Fixture {
  readonly root: string;
  /** Data directory with a simulated platform, admin credentials, a policy directory. */
  readonly data: string;
  readonly scenarios: Readonly<Record<string, Scenario>>;
  close(): Promise<void>;
}

/** Builds the fixture (a simulated platform, quotes, policies, a held port) in a temporary directory. */
export async function makeFixture(): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), "keyward-cli-scenarios-"));
  const data = join(root, "data");
  const at = (p: string) => join(root, p);
  const sim = initSimPlatform(join(data, "sim"), { now: new Date() });
  // `serve` gets a data directory of its own, without admin credentials (so no Admin listener).
  const serveData = join(root, "serve-data");
  initSimPlatform(join(serveData, "sim"), { now: new Date() });
  const licensingData = join(root, "licensing-data");
  initSimPlatform(join(licensingData, "sim"), { now: new Date() });
  mkdirSync(join(data, "policies"), { recursive: true });
  const m = measure(loadManifest(EXAMPLE));
  const appQuote = sim.quoteSgx({
    mrEnclave: m.mrEnclave,
    mrSigner: m.mrSigner,
    isvProdId: m.isvProdId,
    isvSvn: m.isvSvn,
    reportData: new Uint8Array(64).fill(7),
  });
  writeFileSync(at("app-quote.bin"), appQuote);
  writeFileSync(
    at("other-quote.bin"),
    sim.quoteSgx({
      mrEnclave: new Uint8Array(32).fill(9),
      mrSigner: m.mrSigner,
      isvProdId: m.isvProdId,
      isvSvn: m.isvSvn,
      reportData: new Uint8Array(64),
    }),
  );
  writeFileSync(at("sim-collateral.json"), sim.collateralJson("sgx"));
  writeFileSync(at("sim-root.pem"), sim.rootCertificatePem);
  const mr = Buffer.from(m.mrEnclave).toString("hex");
  writeFileSync(
    at("app.yaml"),
    `id: app\nmr_enclave: "${mr}"\nplatforms: [simulated]\nsecrets:\n  key: apps/key\n`,
  );
  writeFileSync(at("gone.yaml"), `id: gone\nmr_enclave: "${"ab".repeat(32)}"\n`);
  writeFileSync(
    at("wrong.json"),
    JSON.stringify({ id: "wrong", mr_enclave: "cd".repeat(32), platforms: ["simulated"] }),
  );
  // A policy file of the service: a stored policy may not take its id (ERR_SERVICE_POLICY_CONFLICT).
  writeFileSync(
    join(data, "policies", "filed.json"),
    JSON.stringify({ id: "filed", mr_enclave: "ef".repeat(32) }),
  );
  writeFileSync(at("filed-copy.json"), JSON.stringify({ id: "filed", mr_enclave: "ef".repeat(32) }));
  writeFileSync(at("bad-manifest.toml"), "[loader]\nentrypoint = 42\n");
  writeFileSync(at("value"), "s3cret-value", { mode: 0o600 });
  writeFileSync(at("not-a-quote.bin"), new Uint8Array(700).fill(3));
  mkdirSync(at("fresh"));
  mkdirSync(at("empty"));
  await signerFixture(root, sim);
  // A port some other process holds: `serve` must say so and exit 2.
  const held: Server = createServer();
  await new Promise<void>((r) => held.listen(0, "127.0.0.1", () => r()));
  const heldPort = (held.address() as { port: number }).port;

  const dcap = (name: string) => `${V}dcap/${name}/`;
  const sgxAt = "2025-08-15T05:45:00Z";
  const tpm = (name: string, more: string[] = []) => [
    "tpm",
    "verify-quote",
    "--ak",
    `${V}tpm/${name}/ak.pub`,
    "--quote",
    `${V}tpm/${name}/quote.msg`,
    "--sig",
    `${V}tpm/${name}/quote.sig`,
    "--nonce-file",
    `${V}tpm/${name}/nonce.bin`,
    "--pcrs",
    `${V}tpm/${name}/pcrs.bin`,
    "--pcr-list",
    "sha256:23",
    "--cert",
    `${V}tpm/${name}/cert.der`,
    "--binding",
    "pcr23",
    ...more,
  ];
  const local = ["--data-dir", data, "--simulation"];
  const quoteArgs = [
    `${dcap("automata-sgx-v3")}quote.bin`,
    "--collateral",
    `${dcap("automata-sgx-v3")}collateral.json`,
    "--at",
    sgxAt,
  ];
  const scenarios: Record<string, Scenario> = {
    demo: { okCoveredBy: "packages/cli/test/main.test.ts" },
    "demo otp": { ok: { args: ["demo", "otp"] } },
    "quote inspect": {
      ok: { args: ["quote", "inspect", `${dcap("automata-tdx-v4")}quote.bin`] },
      rejected: { args: ["quote", "inspect", at("not-a-quote.bin")] },
      repeatable: true,
    },
    "quote verify": {
      ok: { args: ["quote", "verify", ...quoteArgs] },
      rejected: { args: ["quote", "verify", ...quoteArgs.slice(0, -1), "2031-01-01T00:00:00Z"] },
      repeatable: true,
    },
    "quote report": {
      ok: { args: ["quote", "report", ...quoteArgs, "--html", at("report.html")] },
      rejected: {
        args: [
          "quote",
          "report",
          at("app-quote.bin"),
          "--collateral",
          at("sim-collateral.json"),
          "--sim-root",
          at("sim-root.pem"),
          "--policy",
          at("wrong.json"),
          "--html",
          at("rejected.html"),
        ],
      },
      repeatable: true,
    },
    "ratls inspect": {
      ok: { args: ["ratls", "inspect", `${V}ratls/gramine-cert.pem`] },
      rejected: { args: ["ratls", "inspect", `${V}dcap/intel-sgx-root-ca.pem`] },
      repeatable: true,
    },
    "ratls verify": {
      ok: {
        args: [
          "ratls",
          "verify",
          `${V}ratls/gramine-cert.pem`,
          "--collateral",
          `${dcap("automata-sgx-v3")}collateral.json`,
          "--at",
          sgxAt,
          "--allow-debug",
        ],
      },
      rejected: {
        args: [
          "ratls",
          "verify",
          `${V}ratls/gramine-cert.pem`,
          "--collateral",
          `${dcap("automata-sgx-v3")}collateral.json`,
          "--at",
          sgxAt,
        ],
      },
      repeatable: true,
    },
    "tpm quote": {
      okCoveredBy: "packages/platform/test/tpm/swtpm.test.ts",
      rejected: {
        args: [
          "tpm",
          "quote",
          "--tpm",
          "tcp://127.0.0.1:1",
          "--nonce",
          "00".repeat(16),
          "--out",
          at("tpm-out"),
          "--cert",
          `${V}tpm/ecc-p256-pcr23/cert.der`,
          "--binding",
          "extradata",
        ],
      },
    },
    "tpm verify-quote": {
      ok: { args: tpm("ecc-p256-pcr23", ["--ak-qname", `${V}tpm/ecc-p256-pcr23/ak.qname`]) },
      rejected: { args: tpm("neg-wrong-nonce") },
      repeatable: true,
    },
    "sim init": {
      ok: { args: ["sim", "init", "--data-dir", at("fresh")] },
      rejected: { args: ["sim", "init", "--data-dir", data] },
    },
    "sim refresh": {
      ok: { args: ["sim", "refresh", "--data-dir", data] },
      rejected: { args: ["sim", "refresh", "--data-dir", at("empty")] },
      repeatable: true,
    },
    "sim quote": {
      ok: {
        args: [
          "sim",
          "quote",
          "--tee",
          "tdx",
          "--report-data",
          "0a0b",
          "--out",
          at("tdx.bin"),
          "--data-dir",
          data,
        ],
      },
      rejected: { args: ["sim", "quote", "--tee", "sgx", "--out", at("x.bin"), "--data-dir", at("empty")] },
      repeatable: true,
    },
    "enclave run": {
      ok: { args: ["enclave", "run", "--manifest", EXAMPLE, "--data-dir", data, "--", "identity"] },
      rejected: { args: ["enclave", "run", "--manifest", EXAMPLE, "--data-dir", data, "--", "no-such-mode"] },
    },
    "enclave measure": {
      ok: { args: ["enclave", "measure", "--manifest", EXAMPLE] },
      rejected: { args: ["enclave", "measure", "--manifest", at("bad-manifest.toml")] },
      repeatable: true,
    },
    "enclave verify-measurement": {
      ok: { args: ["enclave", "verify-measurement", "--manifest", EXAMPLE, "--quote", at("app-quote.bin")] },
      rejected: {
        args: ["enclave", "verify-measurement", "--manifest", EXAMPLE, "--quote", at("other-quote.bin")],
      },
      repeatable: true,
    },
    "enclave sigstruct": {
      ok: { args: ["enclave", "sigstruct", `${V}sigstruct/auditee-hashmachine.sig`] },
      rejected: {
        args: [
          "enclave",
          "sigstruct",
          `${V}sigstruct/auditee-hashmachine.sig`,
          "--quote",
          at("app-quote.bin"),
        ],
      },
      repeatable: true,
    },
    "signer keygen": {
      ok: {
        args: ["signer", "keygen", "--out", at("signer-new"), "--manifest", GATEWAY, "--data-dir", data],
      },
      rejected: {
        args: [
          "signer",
          "keygen",
          "--out",
          at("signer-x"),
          "--purpose",
          "Not A Purpose",
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
    },
    "signer sign": {
      ok: {
        args: [
          "signer",
          "sign",
          "--key",
          at("signer-key"),
          "--in",
          at("reading.json"),
          "--out",
          at("reading.der"),
          "--format",
          "der",
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
      rejected: {
        args: [
          "signer",
          "sign",
          "--key",
          at("garbage-key"),
          "--in",
          at("reading.json"),
          "--out",
          at("x.cose"),
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
    },
    "signer sign-image": {
      okCoveredBy: "packages/cli/test/sign-image.test.ts",
      // Nothing listens on port 1: the registry cannot be reached.
      rejected: {
        args: [
          "signer",
          "sign-image",
          "--key",
          at("signer-key"),
          "--image",
          `127.0.0.1:1/demo/app@sha256:${"0".repeat(64)}`,
          "--manifest",
          GATEWAY,
          "--plain-http",
          "--data-dir",
          data,
        ],
      },
    },
    "signer encrypt": {
      ok: {
        args: [
          "signer",
          "encrypt",
          "--bundle",
          at("enc-key/bundle.json"),
          "--in",
          at("reading.json"),
          "--out",
          at("reading.jwe"),
          "--policy",
          at("signer-policy.json"),
          "--trust-sim",
          "--data-dir",
          data,
        ],
      },
      // A signing key (ES256) is not an encryption key.
      rejected: {
        args: [
          "signer",
          "encrypt",
          "--bundle",
          at("signer-key/bundle.json"),
          "--in",
          at("reading.json"),
          "--out",
          at("no.jwe"),
          "--policy",
          at("signer-policy.json"),
          "--trust-sim",
          "--data-dir",
          data,
        ],
      },
    },
    "signer decrypt": {
      ok: {
        args: [
          "signer",
          "decrypt",
          "--key",
          at("enc-key"),
          "--in",
          at("secret.jwe"),
          "--out",
          at("secret.out"),
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
      rejected: {
        args: [
          "signer",
          "decrypt",
          "--key",
          at("garbage-key"),
          "--in",
          at("secret.jwe"),
          "--out",
          at("secret.no"),
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
    },
    "signer rotate": {
      ok: {
        args: [
          "signer",
          "rotate",
          "--key",
          at("signer-key"),
          "--out",
          at("signer-key-2"),
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
      rejected: {
        args: [
          "signer",
          "rotate",
          "--key",
          at("garbage-key"),
          "--out",
          at("signer-y"),
          "--manifest",
          GATEWAY,
          "--data-dir",
          data,
        ],
      },
    },
    "signer verify-bundle": {
      ok: {
        args: [
          "signer",
          "verify-bundle",
          at("signer-key/bundle.json"),
          "--policy",
          at("signer-policy.json"),
          "--trust-sim",
          "--data-dir",
          data,
        ],
      },
      rejected: {
        args: [
          "signer",
          "verify-bundle",
          at("signer-key/bundle.json"),
          "--policy",
          at("signer-policy.json"),
          "--data-dir",
          data,
        ],
      },
      repeatable: true,
    },
    "signer verify": {
      ok: {
        args: [
          "signer",
          "verify",
          "--bundle",
          at("signer-key/bundle.json"),
          "--in",
          at("reading.json"),
          "--sig",
          at("reading.cose"),
          "--policy",
          at("signer-policy.json"),
          "--trust-sim",
          "--data-dir",
          data,
        ],
      },
      rejected: {
        args: [
          "signer",
          "verify",
          "--bundle",
          at("signer-key/bundle.json"),
          "--in",
          at("value"),
          "--sig",
          at("reading.cose"),
          "--policy",
          at("signer-policy.json"),
          "--trust-sim",
          "--data-dir",
          data,
        ],
      },
      repeatable: true,
    },
    serve: {
      ok: {
        args: ["serve", "--simulation", "--data-dir", serveData, "--listen", "127.0.0.1:0"],
        stop: true,
      },
      rejected: {
        args: ["serve", "--simulation", "--data-dir", serveData, "--listen", `127.0.0.1:${heldPort}`],
        status: 2,
      },
    },
    "licensing serve": {
      ok: {
        args: ["licensing", "serve", "--simulation", "--data-dir", licensingData, "--listen", "127.0.0.1:0"],
        stop: true,
      },
      rejected: {
        args: [
          "licensing",
          "serve",
          "--simulation",
          "--data-dir",
          licensingData,
          "--listen",
          `127.0.0.1:${heldPort}`,
        ],
        status: 2,
      },
    },
    // The client commands need a running licensing server and a TPM: license-cli.test.ts runs them
    // against `keyward licensing serve` with swtpm; here, their usage errors.
    "license signup": {
      okCoveredBy: "packages/cli/test/license-cli.test.ts",
      rejected: { args: ["license", "signup", "--user", "u", "--ca", at("sim-root.pem")], status: 2 },
    },
    "license login": {
      okCoveredBy: "packages/cli/test/license-cli.test.ts",
      rejected: { args: ["license", "login", "--user", "u", "--server", "127.0.0.1:1"], status: 2 },
    },
    "license launch": {
      okCoveredBy: "packages/cli/test/license-cli.test.ts",
      rejected: { args: ["license", "launch", "--server", "not an address"], status: 2 },
    },
    "license connect": {
      okCoveredBy: "packages/cli/test/license-cli.test.ts",
      rejected: { args: ["license", "connect", "0".repeat(32), "--server", "127.0.0.1:1"], status: 2 },
    },
    "admin init": {
      ok: { args: ["admin", "init", "--data-dir", data, "--host", "keyward.internal"] },
      rejected: { args: ["admin", "init", "--data-dir", data] },
    },
    "admin add-client": {
      ok: { args: ["admin", "add-client", "alice", "--data-dir", data] },
      rejected: { args: ["admin", "add-client", "alice", "--data-dir", data] },
    },
    "admin put-secret": {
      ok: { args: ["admin", "put-secret", "apps/key", "--value-file", at("value"), ...local] },
      rejected: { args: ["admin", "put-secret", "not a name", "--value-file", at("value"), ...local] },
    },
    "admin delete-secret": {
      ok: {
        args: ["admin", "delete-secret", "apps/old", ...local],
        before: [["admin", "put-secret", "apps/old", "--value-file", at("value"), ...local]],
      },
      rejected: { args: ["admin", "delete-secret", "apps/never", ...local] },
    },
    "admin list-secrets": { ok: { args: ["admin", "list-secrets", ...local] }, repeatable: true },
    "admin create-key": {
      ok: { args: ["admin", "create-key", "payments", "--algorithm", "P-256", ...local] },
    },
    "admin put-policy": {
      ok: { args: ["admin", "put-policy", at("app.yaml"), ...local] },
      rejected: { args: ["admin", "put-policy", at("filed-copy.json"), ...local] },
    },
    "admin delete-policy": {
      ok: {
        args: ["admin", "delete-policy", "gone", ...local],
        before: [["admin", "put-policy", at("gone.yaml"), ...local]],
      },
      rejected: { args: ["admin", "delete-policy", "never", ...local] },
    },
    "admin list-policies": { ok: { args: ["admin", "list-policies", ...local] }, repeatable: true },
    "admin explain": {
      ok: { args: ["admin", "explain", "--evidence", at("app-quote.bin"), ...local] },
      rejected: { args: ["admin", "explain", "--evidence", at("other-quote.bin"), ...local] },
      repeatable: true,
    },
    "admin rotate-master-key": {
      ok: { args: ["admin", "rotate-master-key", ...local] },
      rejected: { args: ["admin", "rotate-master-key", "--data-dir", at("empty")] },
    },
    "admin backup": {
      ok: {
        args: ["admin", "backup", "--out", at("backup.db"), ...local],
        before: [["admin", "put-secret", "apps/backed-up", "--value-file", at("value"), ...local]],
      },
      // A backup never overwrites a file.
      rejected: { args: ["admin", "backup", "--out", at("value"), ...local] },
    },
    "admin restore": {
      ok: {
        args: [
          "admin",
          "restore",
          "--from",
          at("restore-source.db"),
          "--data-dir",
          at("restored"),
          "--master-key-file",
          join(data, "master.key"),
        ],
        before: [
          ["admin", "put-secret", "apps/restored", "--value-file", at("value"), ...local],
          ["admin", "backup", "--out", at("restore-source.db"), ...local],
        ],
      },
      // Not a database: refused, nothing restored.
      rejected: {
        args: [
          "admin",
          "restore",
          "--from",
          at("value"),
          "--data-dir",
          at("restored-bad"),
          "--master-key-file",
          join(data, "master.key"),
        ],
      },
    },
    "admin otp create-account": {
      ok: {
        args: [
          "admin",
          "otp",
          "create-account",
          "ci-task",
          "--issuer",
          "ACME Trust",
          "--role",
          "ops",
          ...local,
        ],
      },
      // A colon would split the authenticator's label wrongly: refused, not escaped.
      rejected: { args: ["admin", "otp", "create-account", "ci:task", "--issuer", "ACME Trust", ...local] },
    },
    "admin otp list-accounts": {
      ok: { args: ["admin", "otp", "list-accounts", ...local] },
      repeatable: true,
    },
    "admin otp disable-account": {
      ok: {
        args: ["admin", "otp", "disable-account", "old-task", ...local],
        before: [["admin", "otp", "create-account", "old-task", "--issuer", "ACME Trust", ...local]],
      },
      rejected: { args: ["admin", "otp", "disable-account", "never-made", ...local] },
    },
    "admin otp enable-account": {
      ok: {
        args: ["admin", "otp", "enable-account", "off-task", ...local],
        before: [
          ["admin", "otp", "create-account", "off-task", "--issuer", "ACME Trust", ...local],
          ["admin", "otp", "disable-account", "off-task", ...local],
        ],
      },
      rejected: { args: ["admin", "otp", "enable-account", "never-made", ...local] },
    },
    "admin otp reenroll-account": {
      ok: {
        args: ["admin", "otp", "reenroll-account", "lost-phone", ...local],
        before: [["admin", "otp", "create-account", "lost-phone", "--issuer", "ACME Trust", ...local]],
      },
      rejected: { args: ["admin", "otp", "reenroll-account", "never-made", ...local] },
    },
    "otp verify": {
      // An accepted code needs the account's secret, which only an enrollment hands over.
      okCoveredBy: "packages/cli/test/otp-cli.test.ts",
      rejected: { args: ["otp", "verify", "--account", "never-made", "--code", "123456", ...local] },
    },
    "audit read": { ok: { args: ["audit", "read", ...local] }, repeatable: true },
    "audit verify": {
      ok: { args: ["audit", "verify", ...local] },
      rejected: { args: ["audit", "verify", "--expect-head", "00".repeat(32), ...local] },
      repeatable: true,
    },
    explain: {
      ok: { args: ["explain", "ERR_IO"] },
      rejected: { args: ["explain", "ERR_NO_SUCH_CODE"], status: 2 },
      repeatable: true,
    },
    completion: { ok: { args: ["completion", "bash"] }, repeatable: true },
    "deploy kubernetes": {
      ok: { args: ["deploy", "kubernetes", "--replicas", "3", "--hardware"] },
      // A password on the command line is refused before anything is printed.
      rejected: { args: ["deploy", "kubernetes", "--postgres", "postgres://k:pw@db/k"], status: 2 },
      repeatable: true,
    },
    help: {
      ok: { args: ["help", "quote", "verify"] },
      rejected: { args: ["help", "no-such"], status: 2 },
      repeatable: true,
    },
  };
  return {
    root,
    data,
    scenarios,
    async close() {
      await new Promise((r) => held.close(r));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// An attested key made in the gateway enclave, a reading signed with it, a policy naming the
// gateway's MRENCLAVE, and a key directory whose sealed key is garbage.
async function signerFixture(root: string, sim: ReturnType<typeof initSimPlatform>): Promise<void> {
  const at = (p: string) => join(root, p);
  const manifest = loadManifest(GATEWAY);
  const gateway = async (...args: string[]) => {
    const running = launchEnclave({ manifest, platform: sim, args, output: "pipe" });
    let stderr = "";
    running.child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    running.child.stdout?.resume();
    if ((await running.exited) !== 0) throw new Error(`gateway ${args.join(" ")}: ${stderr}`);
  };
  writeFileSync(at("reading.json"), '{"sensor":"t1","celsius":21.5}\n');
  await gateway(
    "keygen",
    "--out",
    at("signer-key"),
    "--collateral",
    join(root, "data", "sim", "collateral-sgx.json"),
  );
  await gateway("sign", "--key", at("signer-key"), "--in", at("reading.json"), "--out", at("reading.cose"));
  const mr = Buffer.from(measure(manifest).mrEnclave).toString("hex");
  writeFileSync(
    at("signer-policy.json"),
    JSON.stringify({ id: "gateway", platforms: ["simulated"], mrEnclave: [mr] }),
  );
  await gateway(
    "keygen",
    "--out",
    at("enc-key"),
    "--algorithm",
    "ECDH-ES+A256KW",
    "--purpose",
    "kms",
    "--collateral",
    join(root, "data", "sim", "collateral-sgx.json"),
  );
  const encBundle = parseKeyBundle(readFileSync(at("enc-key/bundle.json"), "utf8"));
  writeFileSync(
    at("secret.jwe"),
    await encryptToAttestedKey(
      { key: p256FromSpki(encBundle.publicKey), keyId: encBundle.keyId, algorithm: encBundle.algorithm },
      new TextEncoder().encode("a secret for the enclave"),
    ),
  );
  mkdirSync(at("garbage-key"));
  writeFileSync(at("garbage-key/key.sealed"), new Uint8Array(200).fill(5), { mode: 0o600 });
}
