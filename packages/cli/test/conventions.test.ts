/**
 * Every registered command follows the CLI's conventions, table-driven over the registry (a new
 * command is covered by being registered, and fails here until it has a scenario): `--help` and
 * `keyward help COMMAND` print the same help on stdout; a bad flag is ERR_USAGE, exit 2, on stderr
 * (and in JSON mode the error object on stdout with one line on stderr); `--json` is accepted by
 * the commands that print a result and refused by the others; the accepting and rejecting runs
 * exit 0 and 1 (2 for usage), their JSON parses, and its keys are camelCase with no
 * implementation fields.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../src/registry.ts";
import type { CommandSpec } from "../src/specs/types.ts";
import { CliRunner } from "./harness/cli-runner.ts";
import { type Fixture, type Invocation, makeFixture } from "./scenarios.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const runner = new CliRunner();
let fixture: Fixture;
before(async () => {
  fixture = await makeFixture();
});
after(async () => {
  runner.stop();
  await fixture?.close();
});

// Keys whose values are documents of their own (file names, a stored policy, an audit detail, the
// Kubernetes objects of a List).
const FREE_FORM = new Set(["files", "policy", "detail", "items"]);

function camelKeys(value: unknown, path: string, bad: string[]): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) camelKeys(v, `${path}[${i}]`, bad);
  } else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if (!/^[a-z][a-zA-Z0-9]*$/.test(k)) bad.push(`${path}.${k}`);
      if (!FREE_FORM.has(k)) camelKeys(v, `${path}.${k}`, bad);
    }
}

/** The JSON values of stdout: one document, or JSON Lines. */
function jsonOf(stdout: string): unknown[] {
  try {
    return [JSON.parse(stdout)];
  } catch {
    return stdout
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
  }
}

// `--json` goes right after the command's words (before any `--` of `enclave run`).
function withJson(spec: CommandSpec, args: readonly string[]): string[] {
  const words = spec.name.split(" ").length;
  return [...args.slice(0, words), "--json", ...args.slice(words)];
}

async function run(spec: CommandSpec, inv: Invocation, json: boolean) {
  for (const b of inv.before ?? []) {
    const r = await runner.run(b);
    assert.equal(r.status, 0, `before: keyward ${b.join(" ")}\n${r.stderr}`);
  }
  return runner.run(
    json ? withJson(spec, inv.args) : inv.args,
    inv.stop === true ? { stopWithSigterm: true } : {},
  );
}

describe("the keyward command tree", () => {
  it("has a scenario for every registered command, and nothing else", () => {
    assert.deepEqual(Object.keys(fixture.scenarios).sort(), COMMANDS.map((c) => c.spec.name).sort());
  });

  it("prints its version with --version (and -V), and the command list with no command", () => {
    const bin = fileURLToPath(new URL("../bin/keyward.ts", import.meta.url));
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8"));
    for (const flag of ["--version", "-V"]) {
      const r = spawnSync(process.execPath, [bin, flag], { encoding: "utf8" });
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`^keyward ${pkg.version.replaceAll(".", "\\.")} \\(Node\\.js v\\d+`));
    }
    const none = spawnSync(process.execPath, [bin], { encoding: "utf8" });
    assert.equal(none.status, 2);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /^usage: keyward/);
  });

  it("answers help for a group, and refuses an unknown command with exit 2", async () => {
    const group = await runner.run(["help", "admin"]);
    assert.equal(group.status, 0);
    assert.match(group.stdout, /admin put-secret/);
    const alone = await runner.run(["quote"]);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /quote verify/);
    const unknown = await runner.run(["quote", "nonsense", "--json"]);
    assert.equal(unknown.status, 2);
    assert.equal(JSON.parse(unknown.stdout).error.code, "ERR_USAGE");
  });

  for (const { spec } of COMMANDS) {
    const words = spec.name.split(" ");
    it(`${spec.name}: --help and help print the same help, on stdout`, async () => {
      const h = await runner.run([...words, "--help"]);
      assert.equal(h.status, 0, h.stderr);
      assert.ok(h.stdout.startsWith(`usage: keyward ${spec.name}`), h.stdout);
      assert.match(
        h.stdout,
        /exit status: 0 accepted, 1 rejected by a check, 2 usage or unreadable input, 70 internal/,
      );
      for (const flag of Object.keys(spec.options))
        assert.ok(h.stdout.includes(`--${flag}`), `--${flag} in help`);
      assert.equal(h.stderr, "");
      const h2 = await runner.run(["help", ...words]);
      assert.equal(h2.status, 0);
      assert.equal(h2.stdout, h.stdout);
      assert.equal((await runner.run([...words, "-h"])).stdout, h.stdout);
    });

    it(`${spec.name}: a bad flag is a usage error (exit 2, stderr${spec.json ? "; JSON error on stdout with --json" : ""})`, async () => {
      const bad = await runner.run([...words, "--no-such-flag"]);
      assert.equal(bad.status, 2);
      assert.equal(bad.stdout, "");
      assert.match(bad.stderr, /ERR_USAGE/);
      assert.match(bad.stderr, new RegExp(`usage: keyward ${spec.name}`));
      const json = await runner.run([...words, "--no-such-flag", "--json"]);
      assert.equal(json.status, 2);
      if (spec.json) {
        const e = JSON.parse(json.stdout).error;
        assert.equal(e.code, "ERR_USAGE");
        assert.equal(typeof e.message, "string");
        assert.equal(json.stderr.trim().split("\n").length, 1, json.stderr);
      } else {
        assert.equal(json.stdout, "");
        assert.match(json.stderr, /ERR_USAGE/);
      }
    });

    if (!spec.json)
      it(`${spec.name}: prints no result, so refuses --json (exit 2)`, async () => {
        const r = await runner.run([...words, "--json"]);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /--json is not one of its flags/);
      });

    it(`${spec.name}: exits 0 when it succeeds${spec.json ? " (JSON with camelCase keys)" : ""}, and 1 when a check rejects`, async (t) => {
      const sc = fixture.scenarios[spec.name];
      assert.ok(sc !== undefined, "a scenario");
      if (sc.okCoveredBy !== undefined) {
        const file = `${ROOT}${sc.okCoveredBy}`;
        assert.ok(existsSync(file), file);
        assert.ok(
          readFileSync(file, "utf8").includes(`"${words.at(-1)}"`),
          `${sc.okCoveredBy} runs ${spec.name}`,
        );
        t.diagnostic(`accepting run: ${sc.okCoveredBy}`);
      }
      if (sc.ok !== undefined) {
        const ok = await run(spec, sc.ok, spec.json);
        assert.equal(
          ok.status,
          sc.ok.status ?? 0,
          `keyward ${ok.args.join(" ")}\n${ok.stdout}\n${ok.stderr}`,
        );
        assert.doesNotMatch(ok.stdout, /\$typeName/);
        if (spec.json) {
          const bad: string[] = [];
          for (const v of jsonOf(ok.stdout)) camelKeys(v, "", bad);
          assert.deepEqual(bad, [], "JSON keys in camelCase");
        }
        if (sc.repeatable === true && spec.json) {
          const text = await runner.run(sc.ok.args);
          assert.equal(text.status, 0, text.stderr);
          assert.ok(text.stdout.length > 0 && !text.stdout.startsWith("{"), `text output:\n${text.stdout}`);
        }
      }
      if (sc.rejected !== undefined) {
        const want = sc.rejected.status ?? 1;
        const r = await run(spec, sc.rejected, spec.json);
        assert.equal(r.status, want, `keyward ${r.args.join(" ")}\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /keyward: /);
        if (spec.json) {
          const [out] = jsonOf(r.stdout) as [
            { error?: { code?: string }; appraisal?: { accepted: boolean } },
          ];
          assert.ok(
            /^ERR_[A-Z0-9_]+$/.test(out.error?.code ?? "") || out.appraisal?.accepted === false,
            `a rejection in the JSON: ${r.stdout}`,
          );
        }
      }
    });
  }
});
