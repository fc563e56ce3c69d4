/**
 * The secret-provisioning half of `keyward demo`: a fresh data dir, the simulated platform, the
 * service on SQLite in simulation mode (the simulation root trusted explicitly), the example
 * enclave app fetching its secret with @keyward/client (mutual RA-TLS on the service listener,
 * then the challenge path on the challenge listener), a modified copy of the app refused, a
 * Confidential Containers guest fetching the same secret over the KBS protocol and another TD
 * refused, and the audit log printed and verified.
 *
 * @module
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { readTextBounded } from "@keyward/platform/io";
import { launchEnclave, loadManifest, measure } from "@keyward/platform/launcher";
import { openBundledDirectory } from "@keyward/platform/runtime";
import { initSimPlatform } from "@keyward/platform/sim";
import { createLogger, loadServiceConfig, runService, SIM_SERVICE_MEASUREMENT } from "@keyward/server";
import { openLocalAdmin } from "@keyward/server/admin";
import { type AuditEntry, auditEntries, verifyChain } from "@keyward/server/audit";
import { kbsGuestFetch } from "./demo-kbs.ts";
import { stageExampleApp } from "./example-app.ts";

const appUrl = new URL("../../../examples/secret-client/", import.meta.url);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Runs the service demo; returns the number of unexpected outcomes. */
export async function secretProvisioningDemo(
  say: (line: string) => void,
  check: (ok: boolean, line: string) => void,
): Promise<void> {
  say(
    "\nSecret provisioning: the service on SQLite in simulation mode, the example app under the simulated launcher:",
  );
  const home = mkdtempSync(join(tmpdir(), "keyward-demo-service-"));
  // The repository's copy from sources, the package's own when installed from npm; a single
  // executable extracts its own. It runs from a copy (example-app.ts).
  const app = openBundledDirectory("secret-client", appUrl);
  const appDir = stageExampleApp(app.path, join(home, "app"));
  const platform = initSimPlatform(join(home, "sim"), { now: new Date() });
  // The service as `keyward serve --simulation` runs it, on a free port, its log kept quiet.
  // The KBS listener in plain HTTP for the demo (--kbs-insecure-http): resources still travel as
  // JWEs to the guest's TEE key.
  const config = loadServiceConfig(
    home,
    {
      listen: "127.0.0.1:0",
      challengeListen: "127.0.0.1:0",
      kbsListen: "127.0.0.1:0",
      kbsInsecureHttp: true,
      simulation: true,
    },
    {},
  );
  const mrTd = new Uint8Array(48).fill(0x7d);
  try {
    const manifest = loadManifest(join(appDir, "app.toml"));
    const appMr = hex(measure(manifest).mrEnclave);
    mkdirSync(config.policyDir, { recursive: true });
    writeFileSync(
      join(config.policyDir, "secret-client.json"),
      JSON.stringify({
        id: "secret-client",
        mr_enclave: appMr,
        app_token: "demo-app-token",
        secrets: { master_key: "occlum/1/image_key" },
        platforms: ["simulated"],
      }),
    );
    writeFileSync(
      join(config.policyDir, "coco-guest.json"),
      JSON.stringify({
        id: "coco-guest",
        tee: ["tdx"],
        mrTd: [hex(mrTd)],
        secrets: { "default/demo/image-key": "occlum/1/image_key" },
        platforms: ["simulated"],
      }),
    );
    const admin = await openLocalAdmin(config);
    try {
      await admin.ops.putSecret(
        "admin:demo",
        "occlum/1/image_key",
        new TextEncoder().encode("demo image key: 0123456789abcdef"),
      );
    } finally {
      await admin.close();
    }
    say(`  policy secret-client grants master_key to MRENCLAVE ${appMr.slice(0, 16)}…`);
    say(
      `  policy coco-guest grants the KBS resource default/demo/image-key to MRTD ${hex(mrTd).slice(0, 16)}…`,
    );
    const service = await runService(config, createLogger(new Writable({ write: (_c, _e, cb) => cb() })));
    const store = service.store;
    try {
      const run = async (dir: string, port = service.port) => {
        const args = ["127.0.0.1", String(port), join(home, "sim"), hex(SIM_SERVICE_MEASUREMENT)];
        const running = launchEnclave({
          manifest: loadManifest(join(dir, "app.toml")),
          platform,
          args,
          env: process.env,
          output: "pipe",
        });
        let out = "";
        let err = "";
        running.child.stdout?.on("data", (d: Buffer) => {
          out += d.toString();
        });
        running.child.stderr?.on("data", (d: Buffer) => {
          err += d.toString();
        });
        const status = await running.exited;
        return { status, out: out.trim(), err: err.trim() };
      };
      const ok = await run(appDir);
      check(
        ok.status === 0 && ok.out.includes('"master_key"') && ok.out.includes('"mutual"'),
        `example app received its secret (@keyward/client, mutual RA-TLS): ${ok.out || ok.err}`,
      );
      const viaChallenge = await run(appDir, service.challengePort);
      check(
        viaChallenge.status === 0 && viaChallenge.out.includes('"challenge"'),
        `the same app, given the challenge listener, took the challenge path: ${viaChallenge.out || viaChallenge.err}`,
      );

      const copy = join(home, "modified-app");
      cpSync(appDir, copy, { recursive: true, verbatimSymlinks: true });
      const appTs = join(copy, "app.ts");
      writeFileSync(
        appTs,
        `${readTextBounded(appTs, { kind: "trustedFile", what: "example app" })}\n// modified: exfiltrate the secret\n`,
      );
      const bad = await run(copy);
      check(
        bad.status !== 0 && bad.err.includes("ERR_SERVICE_DENIED"),
        `modified copy of the app refused: ${bad.err.includes("ERR_SERVICE_DENIED") ? "ERR_SERVICE_DENIED (permission denied)" : bad.out || bad.err}`,
      );
      say("  a Confidential Containers guest (KBS protocol, TDX evidence):");
      const kbsUrl = `http://127.0.0.1:${service.ports.kbsPort}`;
      const guest = await kbsGuestFetch(kbsUrl, "default/demo/image-key", (reportData) =>
        platform.quoteTdx({ mrTd, reportData }),
      );
      check(
        "value" in guest && new TextDecoder().decode(guest.value).includes("0123456789abcdef"),
        `KBS guest received default/demo/image-key as a JWE to its TEE key (${"value" in guest ? `${guest.value.byteLength} bytes` : `refused ${guest.refused}: ${guest.detail}`})`,
      );
      const otherTd = await kbsGuestFetch(kbsUrl, "default/demo/image-key", (reportData) =>
        platform.quoteTdx({ mrTd: new Uint8Array(48).fill(0x01), reportData }),
      );
      check(
        "refused" in otherTd,
        `a TD with another MRTD refused: ${"refused" in otherTd ? `HTTP ${otherTd.refused} at ${otherTd.step}` : "released!"}`,
      );
      const entries: AuditEntry[] = [];
      for await (const e of auditEntries(store)) entries.push(e); // a demo's log: a few entries
      say("  audit log:");
      for (const e of entries) {
        say(
          `    #${e.seq} ${e.at} ${e.action} ${e.outcome} ${e.subject.slice(0, 24)}${e.policyId === undefined ? "" : ` policy=${e.policyId}`} ${e.hash.slice(0, 16)}…`,
        );
      }
      const v = verifyChain(entries);
      const count = (outcome: string) =>
        entries.filter((e) => e.action === "secrets.get" && e.outcome === outcome).length;
      check(
        v.ok && count("allowed") === 3 && count("denied") === 2,
        `audit chain verifies: ${v.entries} entries, 3 releases (mutual, challenge, KBS), 2 refusals`,
      );
      check(!JSON.stringify(entries).includes("0123456789abcdef"), "no secret value in the audit log");
    } finally {
      await service.shutdown();
    }
  } finally {
    app.close();
    rmSync(home, { recursive: true, force: true });
  }
}
