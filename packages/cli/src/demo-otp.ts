/**
 * `keyward demo otp`: the whole one-time-password flow on a fresh data directory — an account per
 * task, the service on SQLite in simulation mode, `otpqr` under the simulated launcher receiving
 * the secret once over mutual RA-TLS and writing the key URI to a 0600 file, a code from that
 * secret accepted once and refused the second time, a second otpqr run refused, the file shredded,
 * and the audit chain verified with no secret in it.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { isKeywardError } from "@keyward/attest/errors";
import { readTextBounded } from "@keyward/platform/io";
import { launchEnclave, loadManifest, measure } from "@keyward/platform/launcher";
import { openBundledDirectory } from "@keyward/platform/runtime";
import { initSimPlatform } from "@keyward/platform/sim";
import { createLogger, loadServiceConfig, runService } from "@keyward/server";
import { openLocalAdmin } from "@keyward/server/admin";
import { type AuditEntry, auditEntries, verifyChain } from "@keyward/server/audit";
import { type TOTP, URI } from "otpauth";
import { stageExampleApp } from "./example-app.ts";

const appUrl = new URL("../../../examples/otpqr/", import.meta.url);

/** Runs the OTP demo, reporting each step with `say` and each verdict with `check`. */
export async function otpDemo(
  say: (line: string) => void,
  check: (ok: boolean, line: string) => void,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "keyward-demo-otp-"));
  // The repository's copy from sources; a single executable extracts its own.
  const app = openBundledDirectory("otpqr", appUrl);
  try {
    const platform = initSimPlatform(join(home, "sim"), { now: new Date() });
    const config = loadServiceConfig(home, { listen: "127.0.0.1:0", simulation: true }, {});
    const manifest = loadManifest(join(stageExampleApp(app.path, join(home, "app")), "app.toml"));
    const mr = Buffer.from(measure(manifest).mrEnclave).toString("hex");
    mkdirSync(config.policyDir, { recursive: true });
    writeFileSync(
      join(config.policyDir, "otpqr.json"),
      JSON.stringify({
        id: "otpqr",
        mr_enclave: mr,
        platforms: ["simulated"],
        otpEnrollment: ["release-signer"],
      }),
    );
    say(
      `OTP: an account per task, enrolled once by otpqr (MRENCLAVE ${mr.slice(0, 16)}…) under the simulated launcher:`,
    );
    const local = await openLocalAdmin(config);
    try {
      const a = await local.otp.createAccount("admin:demo", {
        name: "release-signer",
        issuer: "ACME Trust",
        roles: ["release"],
      });
      check(
        a.enrollment === "open",
        `account ${a.name} (issuer "${a.issuer}", ${a.algorithm}, ${a.digits} digits, ${a.period} s) created; its secret not shown`,
      );
    } finally {
      await local.close();
    }
    const service = await runService(config, createLogger(new Writable({ write: (_c, _e, cb) => cb() })));
    const out = join(home, "release-signer.url");
    try {
      const run = async (state: string, file: string) => {
        const running = launchEnclave({
          manifest,
          platform,
          args: [
            "--account",
            "release-signer",
            "--server",
            `127.0.0.1:${service.port}`,
            "--format",
            "url",
            "--out",
            file,
            "--data-dir",
            home,
            "--state-dir",
            join(home, state),
          ],
          env: { PWD: home },
          output: "pipe",
        });
        let stdout = "";
        let stderr = "";
        running.child.stdout?.on("data", (d: Buffer) => {
          stdout += d.toString();
        });
        running.child.stderr?.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        return { status: await running.exited, stdout, stderr };
      };
      const first = await run("state", out);
      check(
        first.status === 0 && existsSync(out) && (statSync(out).mode & 0o777) === 0o600,
        `otpqr wrote the key URI to a new file, mode 0600: ${first.stdout.split("\n")[0] || first.stderr.trim()}`,
      );
      const text = existsSync(out)
        ? readTextBounded(out, { kind: "document", what: "otpqr's key URI" }).trim()
        : "";
      const printed = first.stdout + first.stderr;
      check(
        text.startsWith("otpauth://totp/") && !printed.includes(text) && !printed.includes("secret="),
        "nothing secret on otpqr's stdout or stderr (only where the file is, and shred -n 3 -z -u FILE)",
      );
      const second = await run("state", join(home, "again.url"));
      check(
        second.status === 1 &&
          second.stderr.includes("ERR_OTP_ENROLLMENT_USED") &&
          !existsSync(join(home, "again.url")),
        "a second run refused by its single-run marker: ERR_OTP_ENROLLMENT_USED, no file",
      );
      const elsewhere = await run("other-state", join(home, "elsewhere.url"));
      check(
        elsewhere.status === 1 &&
          elsewhere.stderr.includes("was enrolled already") &&
          !existsSync(join(home, "elsewhere.url")),
        "a run with no marker (deleted, or another machine) refused by the service's one-time ticket",
      );
      if (text !== "") {
        const totp = URI.parse(text) as TOTP;
        const code = totp.generate();
        const verifier = await openLocalAdmin(config);
        try {
          const outcome = async () => {
            try {
              const accepted = await verifier.otp.verify("admin:demo", "release-signer", code);
              return `accepted (time step ${accepted.step})`;
            } catch (e) {
              return isKeywardError(e) ? e.code : String(e);
            }
          };
          const once = await outcome();
          check(once.startsWith("accepted"), `a code from the enrolled secret: ${once}`);
          const twice = await outcome();
          check(twice === "ERR_OTP_REPLAYED", `the same code again: ${twice}`);
        } finally {
          await verifier.close();
        }
      }
      // What the operator does once the app shows codes: overwrite and remove the file.
      const shred = spawnSync("shred", ["-n", "3", "-z", "-u", out]);
      if (shred.status !== 0 && existsSync(out)) {
        writeFileSync(out, Buffer.alloc(statSync(out).size));
        rmSync(out);
      }
      check(!existsSync(out), "the file shredded (shred -n 3 -z -u)");
      const entries: AuditEntry[] = [];
      for await (const e of auditEntries(service.store)) entries.push(e); // a demo's log: a few entries
      const v = verifyChain(entries);
      const secret = text === "" ? "" : (URI.parse(text) as TOTP).secret.base32;
      check(
        v.ok &&
          entries.some((e) => e.action === "otp.enroll") &&
          secret !== "" &&
          !JSON.stringify(entries).includes(secret),
        `audit chain verifies: ${v.entries} entries, otp.enroll recorded, no secret in it`,
      );
    } finally {
      await service.shutdown();
    }
  } finally {
    app.close();
    rmSync(home, { recursive: true, force: true });
  }
}
