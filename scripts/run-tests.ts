/**
 * Runs every test file of the repository with node:test. Test files sit beside the code
 * (`*.test.ts`) and under each package's `test/`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith(".test.ts")) yield p;
  }
}

const only = process.argv.slice(2);
const files = [
  ...walk("packages"),
  ...walk("examples"),
  ...walk("tools"),
  ...walk("scripts"),
  ...walk("deploy"),
]
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
// The repository runs its packages from sources (the `keyward-source` export condition,
// docs/architecture.md): through NODE_OPTIONS, every process a test starts resolves them so too.
const options = process.env.NODE_OPTIONS ?? "";
const NODE_OPTIONS = options.includes("--conditions=keyward-source")
  ? options
  : `${options} --conditions=keyward-source`.trim();
const r = spawnSync(
  process.execPath,
  ["--disable-warning=ExperimentalWarning", "--test", "--test-concurrency=2", ...files],
  { stdio: "inherit", env: { ...process.env, NODE_OPTIONS } },
);
process.exit(r.status ?? 1);
