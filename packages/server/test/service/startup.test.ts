/**
 * Start-up as a careful operator meets it: a start that fails closes everything it opened (the
 * policy watcher, the store, the listeners already listening), and a policy directory missing at
 * start is created (0700) and watched.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { initSimPlatform } from "@keyward/platform/sim";
import pino from "pino";
import { initAdminCredentials } from "../../src/features/admin/credentials.ts";
import { loadServiceConfig, runService } from "../../src/main.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "keyward-startup-"));
  dirs.push(dir);
  initSimPlatform(join(dir, "sim"), { now: new Date() });
  return dir;
}

/** A logger whose JSON lines are kept. */
function recordingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

// Handles that keep a process alive, by type (timers, watchers, sockets, listeners).
function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of process.getActiveResourcesInfo()) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

describe("service start-up", () => {
  it("closes everything it opened when a listener's port is in use", async () => {
    const dir = dataDir();
    initAdminCredentials(dir);
    mkdirSync(join(dir, "policies"));
    const held = await holdPort();
    try {
      for (const flag of ["listen", "adminListen", "challengeListen", "kbsListen", "opsListen"]) {
        const before = handles();
        const flags = {
          listen: "127.0.0.1:0",
          simulation: true,
          adminListen: "127.0.0.1:0",
          [flag]: `127.0.0.1:${held.port}`,
        };
        const config = loadServiceConfig(dir, flags, {});
        await assert.rejects(runService(config, recordingLogger().logger), { code: "EADDRINUSE" }, flag);
        // Closing is asynchronous for some handles (a server's close): give it a turn.
        await new Promise((r) => setTimeout(r, 50));
        const left = handles();
        for (const [type, n] of left)
          assert.ok(
            n <= (before.get(type) ?? 0),
            `${flag}: ${type} left open (${before.get(type) ?? 0} → ${n})`,
          );
      }
    } finally {
      held.server.close();
    }
  });

  // ../shared/cases/policy-dir-created-later: a policy directory missing at start was never watched.
  it("creates a missing policy directory (0700), says which directory it watches, and loads files added later", async () => {
    const dir = dataDir();
    const { logger, lines } = recordingLogger();
    const config = loadServiceConfig(dir, { listen: "127.0.0.1:0", simulation: true }, {});
    const running = await runService(config, logger);
    try {
      const policies = join(dir, "policies");
      assert.equal(statSync(policies).mode & 0o777, 0o700);
      assert.ok(lines.some((l) => l.event === "policies.watching" && l.dir === policies));
      writeFileSync(
        join(policies, "a.json"),
        JSON.stringify({ id: "from-file", platforms: ["simulated"], mrEnclave: "11".repeat(32) }),
      );
      for (let i = 0; i < 100 && !lines.some((l) => l.event === "policies.reloaded"); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        lines.filter((l) => l.event === "policies.reloaded").map((l) => l.count),
        [1],
      );
    } finally {
      await running.shutdown();
    }
  });

  it("refuses to start, naming the directory, when the policy directory cannot be created", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "not-a-dir"), "");
    const config = loadServiceConfig(
      dir,
      { listen: "127.0.0.1:0", simulation: true, policyDir: join(dir, "not-a-dir", "policies") },
      {},
    );
    await assert.rejects(runService(config, recordingLogger().logger), (e: Error & { code?: string }) => {
      assert.equal(e.code, "ERR_SERVICE_CONFIG");
      assert.match(e.message, /not-a-dir\/policies cannot be created \(ENOTDIR\)/);
      return true;
    });
  });
});
