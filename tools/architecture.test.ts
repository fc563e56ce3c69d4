import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { checkAll, importsOf } from "./check-architecture.ts";

const bin = (name: string) => join("node_modules", ".bin", name);
const run = (command: string, args: string[]) => spawnSync(command, args, { encoding: "utf8" });

describe("repository rules", () => {
  it("keeps the architecture's import rules", () => {
    const r = run(process.execPath, ["tools/check-architecture.ts"]);
    assert.equal(r.status, 0, r.stderr);
  });

  it("keeps docs/errors.md generated from the error catalogue", () => {
    const r = run(process.execPath, ["tools/gen-error-docs.ts", "--check"]);
    assert.equal(r.status, 0, r.stderr);
  });

  it("type-checks under strict settings (tsc -b)", () => {
    const r = run(bin("tsc"), ["-b"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("passes the linter and formatter (biome check)", () => {
    const r = run(bin("biome"), ["check", "."]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

// Small trees that break one rule each: the checker must name that rule, and a clean tree none.
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const PACKAGES: Record<string, Record<string, string>> = {
  attest: { "./errors": "./src/errors/index.ts" },
  channels: { "./tls": "./src/tls/index.ts" },
  server: { ".": "./src/main.ts" },
};

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "keyward-arch-"));
  roots.push(root);
  const base: Record<string, string> = {
    "packages/attest/src/errors/index.ts": "export const x = 1;\n",
    "packages/channels/src/tls/index.ts":
      'import { x } from "@keyward/attest/errors";\nexport const y = x;\n',
    "packages/server/src/main.ts":
      'import { kernel } from "./kernel/gate.ts";\nimport { a } from "./features/a/feature.ts";\nexport const main = [kernel, a];\n',
    "packages/server/src/errors/codes.ts": "export const codes = {};\n",
    "packages/server/src/store/contract.ts":
      'import { codes } from "../errors/codes.ts";\nexport const store = codes;\n',
    "packages/server/src/kernel/gate.ts":
      'import type { store } from "../store/contract.ts";\nexport const kernel = 1;\nexport type S = typeof store;\n',
    "packages/server/src/features/a/feature.ts":
      'import { kernel } from "../../kernel/gate.ts";\nexport const a = kernel;\n',
    "packages/server/src/features/b/feature.ts":
      'import { kernel } from "../../kernel/gate.ts";\nexport const b = kernel;\n',
    ...files,
  };
  for (const [name, exports] of Object.entries(PACKAGES))
    base[`packages/${name}/package.json`] = JSON.stringify({ name: `@keyward/${name}`, exports });
  for (const [path, text] of Object.entries(base)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const problemsOf = (files: Record<string, string>) => checkAll(tree(files));
const expectOne = (files: Record<string, string>, pattern: RegExp) => {
  const problems = problemsOf(files);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected ${pattern} among: ${problems.join(" | ") || "(none)"}`,
  );
};

describe("check-architecture on fixtures", () => {
  it("finds nothing wrong in a tree that keeps every rule", () => {
    assert.deepEqual(problemsOf({}), []);
  });

  it("finds an import cycle made of type-only imports", () => {
    expectOne(
      {
        "packages/server/src/kernel/x.ts": 'import type { Y } from "./y.ts";\nexport type X = Y | 1;\n',
        "packages/server/src/kernel/y.ts": 'import type { X } from "./x.ts";\nexport type Y = X | 2;\n',
      },
      /^import cycle: packages\/server\/src\/kernel\/x\.ts → packages\/server\/src\/kernel\/y\.ts → packages\/server\/src\/kernel\/x\.ts$/,
    );
  });

  it("finds a cycle of static imports through three files, not one closed only by a lazy import()", () => {
    expectOne(
      {
        "packages/server/src/ops/p.ts": 'import { r } from "./r.ts";\nexport const p = r;\n',
        "packages/server/src/ops/q.ts": 'import { p } from "./p.ts";\nexport const q = p;\n',
        "packages/server/src/ops/r.ts":
          'import type { Q } from "./s.ts";\nexport const r = 1;\nexport type R = Q;\n',
        "packages/server/src/ops/s.ts": 'import { q } from "./q.ts";\nexport type Q = typeof q;\n',
      },
      /^import cycle: /,
    );
    const lazy = problemsOf({
      "packages/server/src/ops/table.ts": 'export const table = [() => import("./entry.ts")];\n',
      "packages/server/src/ops/entry.ts":
        'import { table } from "./table.ts";\nexport const n = table.length;\n',
    });
    assert.deepEqual(lazy, []);
    // A lazy import still obeys the layers.
    expectOne(
      { "packages/server/src/store/lazy.ts": 'export const k = () => import("../kernel/gate.ts");\n' },
      /upward import/,
    );
  });

  it("refuses a feature importing another feature", () => {
    expectOne(
      {
        "packages/server/src/features/a/x.ts": 'import { b } from "../b/feature.ts";\nexport const x = b;\n',
      },
      /features never import each other/,
    );
  });

  it("refuses the kernel importing a feature", () => {
    expectOne(
      {
        "packages/server/src/kernel/z.ts":
          'import { a } from "../features/a/feature.ts";\nexport const z = a;\n',
      },
      /the kernel never imports a feature/,
    );
  });

  it("refuses an upward import (the store importing the kernel)", () => {
    expectOne(
      {
        "packages/server/src/store/up.ts":
          'import type { S } from "../kernel/gate.ts";\nexport type U = S;\n',
      },
      /upward import/,
    );
  });

  it("refuses one store engine importing the other", () => {
    expectOne(
      {
        "packages/server/src/store/sqlite/engine.ts":
          'import { pg } from "../postgres/engine.ts";\nexport const s = pg;\n',
        "packages/server/src/store/postgres/engine.ts": "export const pg = 1;\n",
      },
      /store engines never import each other/,
    );
  });

  it("refuses a deep import past a package's exports map, and a relative import into another package", () => {
    expectOne(
      {
        "packages/channels/src/tls/deep.ts":
          'import { x } from "@keyward/attest/src/errors/index.ts";\nexport const d = x;\n',
      },
      /not an entry point of @keyward\/attest/,
    );
    expectOne(
      {
        "packages/channels/src/tls/rel.ts":
          'import { x } from "../../../attest/src/errors/index.ts";\nexport const r = x;\n',
      },
      /packages meet only through their exports maps/,
    );
  });

  it("refuses a dependency that points up (channels importing the server)", () => {
    expectOne(
      {
        "packages/channels/src/tls/up.ts":
          'import { main } from "@keyward/server";\nexport const u = main;\n',
      },
      /dependencies point down/,
    );
  });

  it("refuses a database driver or logger in an enclave app", () => {
    expectOne(
      { "examples/app/app.ts": 'import pg from "pg";\nexport const c = pg;\n' },
      /no database driver, logger or YAML/,
    );
  });

  it("refuses I/O and the clock in the verification library", () => {
    expectOne(
      {
        "packages/attest/src/errors/io.ts":
          'import { readFileSync } from "node:fs";\nexport const f = readFileSync;\n',
      },
      /is pure/,
    );
    expectOne(
      { "packages/attest/src/errors/clock.ts": "export const t = () => Date.now();\n" },
      /reads the clock/,
    );
  });

  it("reads static, type-only, side-effect and dynamic imports over several lines", () => {
    const edges = importsOf(
      'import {\n  a,\n  b,\n} from "./a.ts";\nimport type { T } from "./t.ts";\nimport "./side.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\n',
    );
    assert.deepEqual(edges.map((e) => `${e.spec}${e.typeOnly ? " (type)" : ""}`).sort(), [
      "./a.ts",
      "./c.ts",
      "./d.ts",
      "./side.ts",
      "./t.ts (type)",
    ]);
  });
});
