/**
 * The secret-provisioning half of `keyward demo`: a fresh data dir, the simulated platform, the
 * service on SQLite in simulation mode (the simulation root trusted explicitly), the example
 * enclave app fetching its secret over mutual RA-TLS gRPC, a modified copy of the app refused, and
 * the audit log printed and verified.
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
  const config = loadServiceConfig(home, { listen: "127.0.0.1:0", simulation: true }, {});
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
    const service = await runService(config, createLogger(new Writable({ write: (_c, _e, cb) => cb() })));
    const store = service.store;
    try {
      const args = ["127.0.0.1", String(service.port), join(home, "sim"), hex(SIM_SERVICE_MEASUREMENT)];
      const run = async (dir: string) => {
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
        ok.status === 0 && ok.out.includes('"master_key"'),
        `example app received its secret: ${ok.out || ok.err}`,
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
      const entries: AuditEntry[] = [];
      for await (const e of auditEntries(store)) entries.push(e); // a demo's log: a few entries
      say("  audit log:");
      for (const e of entries) {
        say(
          `    #${e.seq} ${e.at} ${e.action} ${e.outcome} ${e.subject.slice(0, 24)}${e.policyId === undefined ? "" : ` policy=${e.policyId}`} ${e.hash.slice(0, 16)}…`,
        );
      }
      const v = verifyChain(entries);
      const released = entries.filter((e) => e.action === "secrets.get" && e.outcome === "allowed").length;
      const denied = entries.filter((e) => e.action === "secrets.get" && e.outcome === "denied").length;
      check(
        v.ok && released === 1 && denied === 1,
        `audit chain verifies: ${v.entries} entries, 1 release, 1 refusal`,
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
