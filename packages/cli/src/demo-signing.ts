/**
 * `keyward demo signing`: the seed's five steps and its two attacks, end to end on this machine.
 * A fresh simulated platform; the service in simulation mode with its challenge listener (the
 * device registry); the IoT gateway enclave app under the simulated launcher.
 *
 *   1 keygen in the enclave   2 upload the bundle (RegisterDevice)   3 sign readings in the enclave
 *   4 upload the readings (VerifyReadings)   5 verify in the cloud (and offline, with openssl)
 *   attacks: the public key swapped for an attacker's; the bundle corrupted
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { sha256 } from "@keyward/attest/crypto";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parseKeyBundle, serializeKeyBundle } from "@keyward/attest/signer";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { readFileBounded, readTextBounded } from "@keyward/platform/io";
import { launchEnclave, loadManifest, measure } from "@keyward/platform/launcher";
import { openBundledDirectory } from "@keyward/platform/runtime";
import { initSimPlatform } from "@keyward/platform/sim";
import { DeviceRegistryService } from "@keyward/proto/keyward/v1";
import { createLogger, loadServiceConfig, runService, SIM_SERVICE_MEASUREMENT } from "@keyward/server";
import { type AuditEntry, auditEntries, verifyChain } from "@keyward/server/audit";
import { fromConnectError } from "@keyward/server/errors";
import { stageExampleApp } from "./example-app.ts";

const appUrl = new URL("../../../examples/iot-gateway/", import.meta.url);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const enc = (s: string) => new TextEncoder().encode(s);

/** Runs the signing demo, reporting each step through `say` and `check`. */
export async function signingDemo(
  say: (line: string) => void,
  check: (ok: boolean, line: string) => void,
): Promise<void> {
  say(
    "Attested signing: the IoT gateway enclave app, and the device registry of the service (simulation mode):",
  );
  const home = mkdtempSync(join(tmpdir(), "keyward-demo-signing-"));
  const app = openBundledDirectory("iot-gateway", appUrl);
  try {
    const platform = initSimPlatform(join(home, "sim"), { now: new Date() });
    const manifest = loadManifest(join(stageExampleApp(app.path, join(home, "app")), "app.toml"));
    const appMr = hex(measure(manifest).mrEnclave);
    const config = loadServiceConfig(
      home,
      { listen: "127.0.0.1:0", challengeListen: "127.0.0.1:0", simulation: true },
      {},
    );
    mkdirSync(config.policyDir, { recursive: true });
    writeFileSync(
      join(config.policyDir, "iot-gateway.json"),
      JSON.stringify({
        id: "iot-gateway",
        mr_enclave: appMr,
        platforms: ["simulated"],
        signerPurposes: ["iot-readings"],
      }),
    );
    say(
      `  policy iot-gateway: MRENCLAVE ${appMr.slice(0, 16)}… (keyward enclave measure) may register iot-readings keys`,
    );
    const gateway = async (...args: string[]) => {
      const running = launchEnclave({ manifest, platform, args, output: "pipe", env: process.env });
      let out = "";
      let err = "";
      running.child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      running.child.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
      });
      return { status: await running.exited, out: out.trim(), err: err.trim() };
    };

    const service = await runService(config, createLogger(new Writable({ write: (_c, _e, cb) => cb() })));
    try {
      const [root] = parsePemCertificates(platform.rootCertificatePem, 1);
      if (root === undefined) throw new Error("no simulation root");
      const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
      const collateral = parseCollateralJson(platform.collateralJson("sgx"));
      const servicePolicy = policyFromObject(
        { id: "service", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
        "demo",
      );
      const { transport } = await createRaTlsGrpcTransport({
        host: "127.0.0.1",
        port: service.challengePort ?? 0,
        peerVerifier: createPeerVerifier({
          verify: (der, at) =>
            verifyRaTlsCertificate(der, { verifier, collateral, at, policy: servicePolicy }),
        }),
      });
      const registry = createClient(DeviceRegistryService, transport);
      const codeOf = async (p: Promise<unknown>) => {
        try {
          await p;
          return "accepted";
        } catch (e) {
          return fromConnectError(e).code;
        }
      };

      // 1. keygen in the enclave
      const keyDir = join(home, "gateway-key");
      const gen = await gateway(
        "keygen",
        "--out",
        keyDir,
        "--collateral",
        join(home, "sim", "collateral-sgx.json"),
      );
      const keyId = gen.status === 0 ? String(JSON.parse(gen.out).keyId) : "";
      check(
        gen.status === 0,
        `1 keygen in the enclave: P-256 key ${keyId.slice(0, 16)}… sealed to MRENCLAVE, bundle written`,
      );

      // 2. upload the bundle
      const bundleText = readTextBounded(join(keyDir, "bundle.json"), {
        kind: "document",
        what: "key bundle",
      });
      const reg = await registry.registerDevice({ device: "gateway-1", bundle: enc(bundleText) });
      check(
        reg.device?.keyId === keyId && reg.policyId === "iot-gateway",
        `2 bundle uploaded: RegisterDevice accepted (evidence verified, key bound, policy ${reg.policyId})`,
      );

      // 3. sign readings in the enclave
      const readings = [1, 2, 3].map((i) => {
        const file = join(home, `reading-${i}.json`);
        writeFileSync(file, JSON.stringify({ sensor: "t1", seq: i, celsius: 20 + i / 2 }));
        return file;
      });
      let signed = 0;
      for (const r of readings)
        if ((await gateway("sign", "--key", keyDir, "--in", r, "--out", `${r}.cose`)).status === 0) signed++;
      const der = await gateway(
        "sign",
        "--key",
        keyDir,
        "--in",
        readings[0] as string,
        "--out",
        `${readings[0]}.sig`,
        "--format",
        "der",
      );
      check(
        signed === 3 && der.status === 0,
        "3 readings signed in the enclave: COSE_Sign1 ES256 (and one DER)",
      );

      // 4 and 5. upload the readings; the cloud verifies them against the registered key
      let verified = 0;
      for (const r of readings) {
        const v = await registry.verifyReadings({
          device: "gateway-1",
          data: readFileBounded(r, { kind: "signedData", what: "reading" }),
          signature: readFileBounded(`${r}.cose`, { kind: "evidence", what: "signature" }),
        });
        if (v.keyId === keyId) verified++;
      }
      check(
        verified === 3,
        `4-5 readings uploaded and verified in the cloud: ${verified}/3 under key ${keyId.slice(0, 16)}…`,
      );
      let openssl = "openssl not run";
      try {
        openssl = execFileSync(
          "openssl",
          [
            "dgst",
            "-sha256",
            "-verify",
            join(keyDir, "public.pem"),
            "-signature",
            `${readings[0]}.sig`,
            readings[0] as string,
          ],
          { encoding: "utf8" },
        ).trim();
      } catch (e) {
        openssl = (e as Error).message.split("\n")[0] ?? "openssl failed";
      }
      check(
        openssl === "Verified OK",
        `  the DER signature, offline: openssl dgst -sha256 -verify: ${openssl}`,
      );

      // Attack: swap the public key for the attacker's.
      const bundle = parseKeyBundle(bundleText);
      const attacker = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const spki = new Uint8Array(attacker.publicKey.export({ format: "der", type: "spki" }));
      const swapped = serializeKeyBundle({ ...bundle, publicKey: spki, keyId: sha256(spki) });
      const swapCode = await codeOf(registry.registerDevice({ device: "gateway-1", bundle: enc(swapped) }));
      check(
        swapCode === "ERR_SIGNER_BINDING_MISMATCH",
        `attack, key swapped in the bundle: registration refused (${swapCode})`,
      );
      const forged = enc(JSON.stringify({ sensor: "t1", seq: 4, celsius: 99 }));
      const forgedCode = await codeOf(
        registry.verifyReadings({
          device: "gateway-1",
          data: forged,
          signature: new Uint8Array(sign("sha256", forged, attacker.privateKey)),
          format: "der",
        }),
      );
      check(
        forgedCode === "ERR_SIGNER_SIGNATURE_INVALID",
        `attack, the attacker's reading: refused (${forgedCode})`,
      );

      // Attack: corrupt the bundle (a flipped bit in the public key, then in the quote).
      const badKey = new Uint8Array(bundle.publicKey);
      badKey[badKey.length - 7] = (badKey[badKey.length - 7] ?? 0) ^ 0x08;
      const corruptKey = await codeOf(
        registry.registerDevice({
          device: "gateway-2",
          bundle: enc(serializeKeyBundle({ ...bundle, publicKey: badKey, keyId: sha256(badKey) })),
        }),
      );
      const badQuote = new Uint8Array(bundle.evidence.quote);
      badQuote[120] = (badQuote[120] ?? 0) ^ 0x01;
      const corruptQuote = await codeOf(
        registry.registerDevice({
          device: "gateway-2",
          bundle: enc(serializeKeyBundle({ ...bundle, evidence: { format: "sgx-dcap", quote: badQuote } })),
        }),
      );
      check(
        corruptKey.startsWith("ERR_SIGNER_") && corruptQuote.startsWith("ERR_DCAP_"),
        `attack, bundle corrupted: refused (key: ${corruptKey}; quote: ${corruptQuote})`,
      );
      const still = await registry.verifyReadings({
        device: "gateway-1",
        data: readFileBounded(readings[0] as string, { kind: "signedData", what: "reading" }),
        signature: readFileBounded(`${readings[0]}.cose`, { kind: "evidence", what: "signature" }),
      });
      check(
        still.keyId === keyId,
        "  authentic readings still verify: corruption never makes authentic data look forged",
      );

      const entries: AuditEntry[] = [];
      for await (const e of auditEntries(service.store)) entries.push(e);
      const count = (action: string, outcome: string) =>
        entries.filter((e) => e.action === action && e.outcome === outcome).length;
      check(
        verifyChain(entries).ok &&
          count("signer.register", "allowed") === 1 &&
          count("signer.register", "denied") === 3,
        `audit chain verifies: ${entries.length} entries; registrations 1 allowed, 3 denied; readings ${count("signer.verify", "ok")} verified, ${count("signer.verify", "denied")} refused`,
      );
    } finally {
      await service.shutdown();
    }
  } finally {
    app.close();
    rmSync(home, { recursive: true, force: true });
  }
}
