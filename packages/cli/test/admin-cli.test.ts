/**
 * The admin commands as an operator runs them, against `keyward serve` in another process: admin
 * init, secrets and policies through the mutual-TLS Admin listener, explain, audit read and verify
 * (with a recorded head), then master-key rotation with the service stopped, and a restart that
 * still releases the secret.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { initSimPlatform } from "@keyward/platform/sim";
import { clientAs, hex, mr, spawnServe } from "../../server/test/service/helpers.ts";

const KEYWARD = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keyward-admin-cli-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function keyward(...args: string[]) {
  const r = spawnSync(process.execPath, [KEYWARD, ...args, "--data-dir", dir], { encoding: "utf8" });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

async function serve() {
  const started = await spawnServe(KEYWARD, dir, ["--admin-listen", "127.0.0.1:0"]);
  children.push(started.child);
  return { ...started, adminPort: started.adminPort as number };
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });

describe("keyward admin (CLI) against a running service", () => {
  const platform = initSimPlatform(join(dir, "sim"), { now: new Date() });
  mkdirSync(join(dir, "policies"));

  it("manages secrets and policies over mutual TLS, explains, and verifies the audit chain", async () => {
    const init = keyward("admin", "init", "--host", "keyward.internal", "--json");
    assert.equal(init.status, 0, init.err);
    assert.equal(JSON.parse(init.out).operator, "admin");
    assert.equal(keyward("admin", "init").status, 1, "a second init refuses to overwrite");
    const { child, port, adminPort } = await serve();
    const admin = ["--admin", `127.0.0.1:${adminPort}`];

    writeFileSync(join(dir, "value"), "s3cret-value", { mode: 0o600 });
    const put = keyward(
      "admin",
      "put-secret",
      "apps/key",
      "--value-file",
      join(dir, "value"),
      "--json",
      ...admin,
    );
    assert.equal(put.status, 0, put.err);
    assert.deepEqual(JSON.parse(put.out), { name: "apps/key", version: 1 });
    writeFileSync(
      join(dir, "app.yaml"),
      `id: app\nmr_enclave: "${hex(mr(0xa7))}"\nplatforms: [simulated]\nsecrets:\n  key: apps/key\n`,
    );
    assert.equal(keyward("admin", "put-policy", join(dir, "app.yaml"), ...admin).status, 0);
    writeFileSync(join(dir, "bad.json"), '{"id":"bad","minIsvSvn":-1}');
    const bad = keyward("admin", "put-policy", join(dir, "bad.json"), ...admin);
    assert.equal(bad.status, 2, "an invalid policy document is unusable input");
    assert.match(bad.err, /ERR_POLICY_INVALID/);
    assert.match(bad.err, /minIsvSvn/);
    const listed = keyward("admin", "list-policies", "--json", ...admin);
    assert.equal(JSON.parse(listed.out.trim()).id, "app");

    const ok = await (await clientAs(platform, port, 0xa7)).getSecrets({});
    assert.equal(new TextDecoder().decode(ok.secrets[0]?.value), "s3cret-value");
    await assert.rejects((await clientAs(platform, port, 0xa8)).getSecrets({}));

    const entries = keyward("audit", "read", "--json", ...admin)
      .out.trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const denial = entries.find((e) => e.outcome === "denied");
    const explained = keyward("admin", "explain", "--audit-seq", String(denial.seq), ...admin);
    assert.equal(explained.status, 1, "no policy accepts the denied caller");
    assert.match(explained.out, /FAIL mrEnclave: expected [0-9a-f]{64}; actual a8a8/);
    assert.ok(!entries.some((e) => JSON.stringify(e).includes("s3cret-value")));

    const verified = keyward("audit", "verify", "--json", ...admin);
    assert.equal(verified.status, 0, verified.err);
    const head = JSON.parse(verified.out).head;
    assert.equal(keyward("audit", "verify", "--expect-head", head, ...admin).status, 0);
    assert.equal(keyward("audit", "verify", "--expect-head", "00".repeat(32), ...admin).status, 1);

    // Without a client certificate of this service's admin CA, nothing is answered.
    const foreign = mkdtempSync(join(tmpdir(), "keyward-admin-foreign-"));
    try {
      const r = spawnSync(process.execPath, [KEYWARD, "admin", "init", "--data-dir", foreign], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0);
      const stranger = spawnSync(
        process.execPath,
        [KEYWARD, "admin", "list-secrets", "--data-dir", foreign, ...admin],
        { encoding: "utf8" },
      );
      assert.notEqual(stranger.status, 0);
      assert.doesNotMatch(stranger.stdout, /apps\/key/);
    } finally {
      rmSync(foreign, { recursive: true, force: true });
    }
    await stop(child);
  });

  it("rotates the master key with the service stopped; the restarted service still releases", async () => {
    const before = statSync(join(dir, "master.key")).mtimeMs;
    const rotated = keyward("admin", "rotate-master-key", "--json");
    assert.equal(rotated.status, 0, rotated.err);
    assert.equal(JSON.parse(rotated.out).secrets, 1);
    assert.equal(statSync(join(dir, "master.key")).mode & 0o777, 0o600);
    assert.ok(statSync(join(dir, "master.key.old")).mtimeMs <= before + 1);
    const { child, port } = await serve();
    const ok = await (await clientAs(platform, port, 0xa7)).getSecrets({});
    assert.equal(new TextDecoder().decode(ok.secrets[0]?.value), "s3cret-value");
    await stop(child);
    // Local administration of the stopped service: deletion, audited in the same chain.
    assert.equal(keyward("admin", "delete-secret", "apps/key").status, 0);
    assert.equal(keyward("admin", "delete-secret", "apps/key").status, 1);
    assert.equal(keyward("audit", "verify").status, 0);
  });

  it("never makes a master key where one is sealed, nor for reading, nor to rotate", () => {
    const sealed = mkdtempSync(join(tmpdir(), "keyward-admin-sealed-"));
    const at = (...args: string[]) =>
      spawnSync(process.execPath, [KEYWARD, ...args, "--data-dir", sealed], { encoding: "utf8" });
    try {
      assert.equal(at("audit", "verify").status, 0);
      assert.equal(at("admin", "list-secrets").status, 0);
      assert.ok(!existsSync(join(sealed, "master.key")), "reading made no key");
      const rotate = at("admin", "rotate-master-key");
      assert.equal(rotate.status, 1);
      assert.match(rotate.stderr, /ERR_SERVICE_MASTER_KEY/);
      assert.ok(!existsSync(join(sealed, "master.key")) && !existsSync(join(sealed, "master.key.next")));
      writeFileSync(join(sealed, "master.key.sealed"), "sealed blob");
      writeFileSync(join(sealed, "v"), "x");
      const put = at("admin", "put-secret", "a", "--value-file", join(sealed, "v"));
      assert.equal(put.status, 1);
      assert.match(put.stderr, /ERR_SERVICE_MASTER_KEY: .*--admin/);
      assert.ok(!existsSync(join(sealed, "master.key")));
    } finally {
      rmSync(sealed, { recursive: true, force: true });
    }
  });
});
