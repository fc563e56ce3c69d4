/**
 * Attested signing: signatures per second inside the simulated enclave (the gateway app, key
 * unsealed once) and verifications per second in the cloud (COSE_Sign1 and DER under an attested
 * key), each as a ratio to bare `crypto.sign` / `crypto.verify` on the same curve and data; then
 * the per-file paths a script would use — `keyward signer sign` (one enclave launch per file) and
 * the library's bundle + signature check — against `openssl dgst -sha256 -sign/-verify` per file.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { parseKeyBundle, verifyKeyBundle, verifySignature } from "@keyward/attest/signer";
import { parsePemCertificates } from "@keyward/attest/x509";
import { launchEnclave, loadManifest } from "@keyward/platform/launcher";
import { initSimPlatform } from "@keyward/platform/sim";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const manifestPath = fileURLToPath(new URL("../examples/iot-gateway/app.toml", import.meta.url));
const bin = fileURLToPath(new URL("../packages/cli/bin/keyward.ts", import.meta.url));

async function rate(run: () => Promise<unknown> | unknown, seconds = SECONDS): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    await run();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}
const fmt = (r: number) => (r >= 100 ? r.toFixed(0) : r.toFixed(1)).padStart(8);
const line = (what: string, ours: number, peer: number, peerName: string) =>
  console.log(
    `${what.padEnd(46)} ${fmt(ours)}/s   ${peerName.padEnd(24)} ${fmt(peer)}/s   ratio ${(ours / peer).toFixed(2)}`,
  );

const home = mkdtempSync(join(tmpdir(), "keyward-signer-bench-"));
try {
  const platform = initSimPlatform(join(home, "sim"), { now: new Date() });
  const manifest = loadManifest(manifestPath);
  const gateway = async (...args: string[]) => {
    const running = launchEnclave({ manifest, platform, args, output: "pipe" });
    let out = "";
    running.child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    running.child.stderr?.resume();
    if ((await running.exited) !== 0) throw new Error(`gateway ${args[0]} failed`);
    return JSON.parse(out.trim()) as Record<string, number>;
  };
  const key = join(home, "key");
  const reading = join(home, "reading.json");
  const data = new TextEncoder().encode(
    JSON.stringify({ sensor: "t1", seq: 1, celsius: 21.5, at: "2026-11-29T12:00:00Z" }),
  );
  writeFileSync(reading, data);
  await gateway("keygen", "--out", key, "--collateral", join(home, "sim", "collateral-sgx.json"));

  // Bare crypto on the same curve and data: the floor.
  const bare = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const bareSign = await rate(() =>
    sign("sha256", data, { key: bare.privateKey, dsaEncoding: "ieee-p1363" }),
  );
  const rawSig = sign("sha256", data, { key: bare.privateKey, dsaEncoding: "ieee-p1363" });
  const bareVerify = await rate(() =>
    verify("sha256", data, { key: bare.publicKey, dsaEncoding: "ieee-p1363" }, rawSig),
  );

  console.log(
    `signing and verifying a ${data.byteLength}-byte reading (P-256, SHA-256); ratios to the peer (higher is faster):`,
  );
  for (const format of ["cose", "der"]) {
    const r = await gateway(
      "bench-sign",
      "--key",
      key,
      "--in",
      reading,
      "--format",
      format,
      "--seconds",
      String(SECONDS),
    );
    line(
      `sign in the simulated enclave (${format})`,
      (r.signatures ?? 0) / (r.seconds ?? 1),
      bareSign,
      "bare crypto.sign",
    );
  }

  const root = parsePemCertificates(platform.rootCertificatePem)[0];
  if (root === undefined) throw new Error("no root");
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const bundle = parseKeyBundle(readFileSync(join(key, "bundle.json"), "utf8"));
  const checkBundle = () =>
    verifyKeyBundle(bundle, (quote, c) => verifier.verify(quote, parseCollateralJson(c ?? ""), new Date()));
  const attested = await checkBundle();
  for (const format of ["cose", "der"] as const) {
    const out = join(home, `r.${format}`);
    await gateway("sign", "--key", key, "--in", reading, "--out", out, "--format", format);
    const sig = new Uint8Array(readFileSync(out));
    line(
      `verify in the cloud (${format}, key already verified)`,
      await rate(() => verifySignature(format, attested.key, attested.keyId, data, sig)),
      bareVerify,
      "bare crypto.verify",
    );
  }

  // Per file, as a script runs them.
  const pem = join(home, "openssl.pem");
  writeFileSync(pem, bare.privateKey.export({ format: "pem", type: "pkcs8" }));
  writeFileSync(join(home, "openssl.pub"), bare.publicKey.export({ format: "pem", type: "spki" }));
  const openssl = (...args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: home });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  const opensslSign = await rate(
    () => openssl("dgst", "-sha256", "-sign", pem, "-out", "o.sig", reading),
    Math.max(SECONDS, 2),
  );
  const opensslVerify = await rate(
    () => openssl("dgst", "-sha256", "-verify", "openssl.pub", "-signature", "o.sig", reading),
    Math.max(SECONDS, 2),
  );
  const env = { ...process.env, KEYWARD_DATA_DIR: home };
  const cliSign = await rate(
    () => {
      const r = spawnSync(
        process.execPath,
        [
          "--disable-warning=ExperimentalWarning",
          bin,
          "signer",
          "sign",
          "--key",
          key,
          "--in",
          reading,
          "--out",
          join(home, "cli.sig"),
          "--format",
          "der",
          "--manifest",
          manifestPath,
          "--data-dir",
          home,
        ],
        { env },
      );
      if (r.status !== 0) throw new Error(`keyward signer sign: ${r.stderr}`);
    },
    Math.max(SECONDS, 4),
  );
  line("keyward signer sign per file (enclave launch)", cliSign, opensslSign, "openssl dgst -sign");
  const derSig = new Uint8Array(readFileSync(join(home, "r.der")));
  const fullVerify = await rate(async () => {
    const a = await checkBundle();
    verifySignature("der", a.key, a.keyId, data, derSig);
  });
  line("bundle (DCAP quote) + signature, per reading", fullVerify, opensslVerify, "openssl dgst -verify");
} finally {
  rmSync(home, { recursive: true, force: true });
}
