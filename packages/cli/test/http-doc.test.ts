/**
 * docs/http.md's curl-and-openssl flow, run as written: its shell blocks (set-up, verification,
 * challenge, evidence, token, release, decryption) and its `open-jwe.mjs`, in one bash process
 * with `keyward` on PATH. What the harness adds is named here: free ports instead of the doc's
 * 7445 and 9095 and of the service listener's default 7443 (`--listen`), a wait for the listener after the block that starts `keyward serve &`, the
 * `service-policy.json` the doc describes in prose (the simulated service's MRENCLAVE), and
 * stopping the service at the end.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SIM_SERVICE_MEASUREMENT } from "../../server/src/kernel/trust.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "keyward-http-doc-"));
after(() => rmSync(work, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The fenced blocks of `language` in `text`, in order. */
function blocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map(
    (m) => m[1] ?? "",
  );
}

describe("docs/http.md", () => {
  it("the whole flow with curl and openssl prints the secret", async () => {
    const doc = readFileSync(join(ROOT, "docs", "http.md"), "utf8");
    const flow = doc.slice(doc.indexOf("## The whole flow"), doc.indexOf("## gRPC-Web"));
    const sh = blocks(flow, "sh");
    const [openJwe] = blocks(flow, "js");
    assert.equal(sh.length, 7, "set-up, steps 1 to 5, and step 6's key derivation");
    assert.ok(openJwe?.includes("open-jwe.mjs"));
    const [challengePort, healthPort, servicePort] = [await freePort(), await freePort(), await freePort()];
    const ports = (s: string) =>
      s
        .replaceAll("7445", String(challengePort))
        .replaceAll("9095", String(healthPort))
        // The doc leaves the service listener at its default (7443), which may be taken here.
        .replace(
          "keyward serve --simulation",
          `keyward serve --simulation --listen 127.0.0.1:${servicePort}`,
        );

    const bin = join(work, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "keyward"),
      `#!/bin/sh\nexec "${process.execPath}" --conditions=keyward-source "${join(ROOT, "packages/cli/bin/keyward.ts")}" "$@"\n`,
    );
    chmodSync(join(bin, "keyward"), 0o755);
    writeFileSync(
      join(work, "service-policy.json"),
      JSON.stringify({
        id: "keyward-service",
        platforms: ["simulated"],
        mrEnclave: [Buffer.from(SIM_SERVICE_MEASUREMENT).toString("hex")],
      }),
    );
    writeFileSync(join(work, "open-jwe.mjs"), openJwe ?? "");
    const [setup = "", ...steps] = sh;
    const script = [
      "set -euo pipefail",
      ports(setup),
      "SERVE_PID=$!",
      "trap 'kill $SERVE_PID' EXIT",
      `for i in $(seq 100); do curl -sk -o /dev/null https://127.0.0.1:${challengePort}/ && break; sleep 0.2; done`,
      ...steps.map(ports),
      "node open-jwe.mjs",
    ].join("\n");
    const r = spawnSync("bash", ["-c", script], {
      cwd: work,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
        NODE_OPTIONS: "",
      },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /hunter2$/);
  });
});
