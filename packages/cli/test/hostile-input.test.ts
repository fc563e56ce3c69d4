/**
 * Every file a command reads, given a hostile path or hostile content, ends the command cleanly:
 * generated from the command registry (every positional and flag that names a file, with its
 * kind), over base arguments from the scenarios, so a new command or a new file flag is covered
 * by being registered.
 *
 * - A FIFO, a link to /dev/zero, a directory, a missing file, an unreadable one (/proc/self/mem
 *   fails its read with EIO; root reads any mode, so permissions are tested in platform/io) and one
 *   over its kind's limit: exit 2 with ERR_IO, at once.
 * - Truncated (a prefix of the real input) and random content (fast-check): exit 0, 1 or 2, and a
 *   non-zero exit names a catalogued code other than ERR_INTERNAL.
 * - Never exit 70, never a signal, never over the time bound (the worker is killed and the run
 *   fails), and the worker's peak RSS stays under a bound while its heap is capped at 256 MiB.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseArgs } from "node:util";
import { INPUT_LIMITS, type InputKind } from "@keyward/platform/io";
import { isKnownErrorCode as isErrorCode } from "@keyward/server/errors";
import fc from "fast-check";
import { COMMANDS } from "../src/registry.ts";
import type { CommandSpec } from "../src/specs/types.ts";
import { type CliRun, CliRunner } from "./harness/cli-runner.ts";
import { type Fixture, makeFixture } from "./scenarios.ts";

const RSS_BOUND_KIB = 768 * 1024;
const runner = new CliRunner(256);
let fixture: Fixture;
let hostile: string;
before(async () => {
  fixture = await makeFixture();
  hostile = join(fixture.root, "hostile");
  mkdirSync(hostile);
  assert.equal(spawnSync("mkfifo", [join(hostile, "fifo")]).status, 0);
  symlinkSync("/dev/zero", join(hostile, "zero"));
  mkdirSync(join(hostile, "dir"));
});
after(async () => {
  runner.stop();
  await fixture?.close();
});

/** A file input of a command: a positional (by index) or a flag. */
interface FileInput {
  readonly label: string;
  readonly kind: InputKind;
  readonly positional?: number;
  readonly flag?: string;
  readonly readBy?: "server";
}

function fileInputs(spec: CommandSpec): FileInput[] {
  const out: FileInput[] = [];
  for (const [i, p] of (spec.positionals ?? []).entries())
    if (p.file !== undefined) out.push({ label: p.name, kind: p.file, positional: i });
  for (const [name, o] of Object.entries(spec.options))
    if (o.file !== undefined)
      out.push({
        label: `--${name}`,
        kind: o.file,
        flag: name,
        ...(o.readBy === undefined ? {} : { readBy: o.readBy }),
      });
  return out;
}

/** `base` with the input's value replaced by `path` (or the flag added), and --json. */
function substitute(
  spec: CommandSpec,
  base: readonly string[],
  input: FileInput,
  path: string,
): { args: string[]; original?: string } {
  const words = spec.name.split(" ").length;
  const own = base.slice(words);
  const end = spec.passThrough === true ? own.indexOf("--") : -1;
  const mine = end < 0 ? own : own.slice(0, end);
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([n, o]) => [
      n,
      { type: o.type, ...(o.multiple === true ? { multiple: true } : {}) },
    ]),
  );
  const { tokens } = parseArgs({
    args: [...mine],
    options,
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  const args = [...mine];
  let original: string | undefined;
  if (input.positional !== undefined) {
    const t = tokens.filter((x) => x.kind === "positional")[input.positional];
    assert.ok(t !== undefined, `${spec.name}: its scenario gives ${input.label}`);
    original = args[t.index];
    args[t.index] = path;
  } else {
    const t = tokens.find((x) => x.kind === "option" && x.name === input.flag);
    if (t !== undefined && t.kind === "option" && !t.inlineValue) {
      original = args[t.index + 1];
      args[t.index + 1] = path;
    } else args.push(`--${input.flag}`, path);
  }
  const rest = end < 0 ? [] : own.slice(end);
  return {
    args: [...base.slice(0, words), ...(spec.json ? ["--json"] : []), ...args, ...rest],
    ...(original === undefined ? {} : { original }),
  };
}

// The code from the JSON error object, or (commands without --json) from the stderr line.
function errorCodeOf(r: CliRun): string | undefined {
  try {
    const code = JSON.parse(r.stdout)?.error?.code;
    if (typeof code === "string") return code;
  } catch {
    // not JSON: look at stderr
  }
  return /keyward: (ERR_[A-Z0-9_]+)/.exec(r.stderr)?.[1];
}

function clean(r: CliRun, what: string): void {
  assert.ok(typeof r.status === "number", `${what}: ${r.status}`);
  assert.ok([0, 1, 2].includes(r.status as number), `${what}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.ok(r.maxRssKiB < RSS_BOUND_KIB, `${what}: peak RSS ${r.maxRssKiB} KiB`);
  if (r.status !== 0) {
    const code = errorCodeOf(r);
    if (code !== undefined) {
      assert.ok(isErrorCode(code), `${what}: ${code} is catalogued`);
      assert.notEqual(code, "ERR_INTERNAL", `${what}: ${r.stdout}`);
    } else {
      assert.equal(r.status, 1, `${what}: a usage or input failure names its code\n${r.stdout}\n${r.stderr}`);
    }
  }
}

describe("hostile files given to every command that reads one", () => {
  for (const { spec } of COMMANDS) {
    for (const input of fileInputs(spec)) {
      const title = `${spec.name} ${input.label} (${input.kind})`;
      // Key files named by flags are checked by the CLI before anything reads them; a backup
      // (`admin restore --from`) is opened by SQLite, and its size is not bounded by a kind.
      if (input.readBy === "server" && input.kind !== "key") {
        it(`${title}: opened by the service's store`, {
          todo: "issue 17: a backup is opened by SQLite (restore); its checks are the backup feature's",
        }, () => {});
        continue;
      }
      it(`${title}: FIFO, /dev/zero, directory, missing, unreadable, oversized → ERR_IO exit 2`, async () => {
        const sc = fixture.scenarios[spec.name];
        const base = sc?.ok?.args ?? sc?.rejected?.args;
        assert.ok(base !== undefined, `${spec.name} has a scenario`);
        const oversized = join(hostile, `over-${input.kind}`);
        writeFileSync(oversized, "");
        truncateSync(oversized, INPUT_LIMITS[input.kind] + 1);
        const paths = {
          fifo: join(hostile, "fifo"),
          "/dev/zero link": join(hostile, "zero"),
          directory: join(hostile, "dir"),
          missing: join(hostile, "missing"),
          unreadable: "/proc/self/mem",
          oversized,
        };
        for (const [name, path] of Object.entries(paths)) {
          const { args } = substitute(spec, base, input, path);
          const r = await runner.run(args, { timeoutMs: 30_000 });
          const what = `${title} ${name}: keyward ${args.join(" ")}`;
          clean(r, what);
          assert.equal(r.status, 2, `${what}\n${r.stdout}\n${r.stderr}`);
          assert.equal(errorCodeOf(r), "ERR_IO", what);
          assert.ok(r.stderr.includes(path), `${what}: the message names the path\n${r.stderr}`);
        }
      });

      it(`${title}: truncated and random content end cleanly (property)`, async () => {
        const sc = fixture.scenarios[spec.name];
        const base = sc?.ok?.args ?? sc?.rejected?.args ?? [];
        const { original } = substitute(spec, base, input, "");
        const real = original === undefined ? new Uint8Array(0) : new Uint8Array(readFileSync(original));
        const content = fc.oneof(
          fc
            .nat({ max: Math.max(real.byteLength - 1, 0) })
            .map((n) => ({ name: `the first ${n} bytes`, bytes: real.subarray(0, n) })),
          fc.uint8Array({ maxLength: 4096 }).map((b) => ({ name: `${b.byteLength} random bytes`, bytes: b })),
        );
        const path = join(
          hostile,
          `content-${spec.name.replace(" ", "-")}-${input.label.replace(/^--/, "")}`,
        );
        await fc.assert(
          fc.asyncProperty(content, async ({ name, bytes }) => {
            writeFileSync(path, bytes);
            const { args } = substitute(spec, base, input, path);
            const r = await runner.run(args, { timeoutMs: 30_000 });
            clean(r, `${title} ${name}: keyward ${args.join(" ")}`);
          }),
          { numRuns: 8 },
        );
      });
    }
  }

  it("covers every command that reads a file", () => {
    const covered = COMMANDS.filter(({ spec }) => fileInputs(spec).length > 0).map(({ spec }) => spec.name);
    for (const name of [
      "quote inspect",
      "quote verify",
      "quote report",
      "ratls verify",
      "tpm verify-quote",
      "enclave run",
      "admin put-secret",
      "admin put-policy",
      "admin explain",
    ])
      assert.ok(covered.includes(name), name);
  });
});
