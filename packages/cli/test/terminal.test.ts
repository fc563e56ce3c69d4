/**
 * Colour and progress only on a terminal: run under a pseudo-terminal (script(1)), the verdict is
 * coloured and `sim init` shows its progress; with NO_COLOR, or with stdout and stderr as pipes,
 * there is not one escape sequence. Results go to stdout, errors and rejections to stderr.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
const V = fileURLToPath(new URL("../../attest/test/vectors/dcap/automata-sgx-v3/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keyward-terminal-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const verify = [
  "quote",
  "verify",
  `${V}quote.bin`,
  "--collateral",
  `${V}collateral.json`,
  "--at",
  "2025-08-15T05:45:00Z",
];
const ESC = "\x1b[";
const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;

/** Runs keyward under a pseudo-terminal; returns what the terminal showed. */
function onTerminal(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; screen: string } {
  const command = [process.execPath, "--disable-warning=ExperimentalWarning", bin, ...args]
    .map(quote)
    .join(" ");
  const r = spawnSync("script", ["-qfec", command, "/dev/null"], {
    encoding: "utf8",
    env: { ...process.env, TERM: "xterm-256color", NO_COLOR: "", FORCE_COLOR: "", ...env },
    timeout: 120_000,
  });
  return { status: r.status, screen: r.stdout };
}

function piped(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, TERM: "xterm-256color", ...env },
  });
}

describe("keyward on a terminal and off it", () => {
  it("colours the verdict on a terminal, never with NO_COLOR, never into a pipe", () => {
    const tty = onTerminal(verify);
    assert.equal(tty.status, 0);
    assert.ok(tty.screen.includes(ESC), "colour on a terminal");
    assert.match(tty.screen, /signature chain verified; not appraised against a policy/);
    const noColor = onTerminal(verify, { NO_COLOR: "1" });
    assert.equal(noColor.status, 0);
    assert.ok(!noColor.screen.includes(ESC), "no colour with NO_COLOR");
    const pipe = piped(verify);
    assert.equal(pipe.status, 0);
    assert.ok(!pipe.stdout.includes(ESC) && !pipe.stderr.includes(ESC), "no colour into a pipe");
    assert.equal(pipe.stderr, "");
  });

  it("shows sim init's progress on a terminal only", () => {
    const tty = onTerminal(["sim", "init", "--data-dir", join(dir, "tty")]);
    assert.equal(tty.status, 0);
    assert.match(tty.screen, /creating the simulated platform: generating the CA/);
    const pipe = piped(["sim", "init", "--data-dir", join(dir, "pipe")]);
    assert.equal(pipe.status, 0);
    assert.equal(pipe.stderr, "", "no progress into a pipe");
    assert.match(pipe.stdout, /simulated platform created/);
  });

  it("puts a rejection on stderr and the result on stdout; in JSON mode the error object on stdout and one line on stderr", () => {
    const expired = [...verify.slice(0, -1), "2031-01-01T00:00:00Z"];
    const text = piped(expired);
    assert.equal(text.status, 1);
    assert.equal(text.stdout, "");
    assert.match(text.stderr, /^keyward: ERR_[A-Z0-9_]+: /);
    const json = piped([...expired, "--json"]);
    assert.equal(json.status, 1);
    assert.match(JSON.parse(json.stdout).error.code, /^ERR_/);
    assert.equal(json.stderr.trim().split("\n").length, 1);
  });
});
