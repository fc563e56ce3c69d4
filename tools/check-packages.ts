/**
 * Fails when a workspace would not install from npm as the others do (docs/architecture.md,
 * "Packages on npm"): run by `npm run check`, so a new package meets the rules when it lands,
 * before the slower `tools/packages.test.ts` packs and installs it.
 *
 * Every workspace of the root `workspaces`:
 * - is publishable: not `private`, the root's `license`, `engines.node`, `files` with `dist`,
 *   `publishConfig.access` public, a `README.md`, and the root's `LICENSE` word for word;
 * - builds when packed: `prepack` runs tools/build-packages.ts on it, `postpack` cleans up;
 * - exports (and `imports`) its modules under three conditions, in this order:
 *   `keyward-source` (an existing `./P.ts`), `types` (`./dist/P.d.ts`), `default` (`./dist/P.js`);
 * - has JavaScript `bin` files that exist (npm links them; Node runs no TypeScript there).
 *
 * `checkPackages(root)` returns the problems; run directly, it checks the repository.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PREPACK = "node ../../tools/build-packages.ts .";
const POSTPACK = "node ../../tools/build-packages.ts --clean .";

interface Manifest {
  name?: string;
  private?: boolean;
  license?: string;
  engines?: { node?: string };
  files?: string[];
  publishConfig?: { access?: string };
  scripts?: Record<string, string>;
  exports?: Record<string, unknown>;
  imports?: Record<string, unknown>;
  bin?: string | Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;

/** The problems of the workspaces of the repository at `root` (paths relative to it). */
export function checkPackages(root: string): string[] {
  const problems: string[] = [];
  const rootManifest = readJson<Manifest & { workspaces?: string[] }>(join(root, "package.json"));
  const license = existsSync(join(root, "LICENSE")) ? readFileSync(join(root, "LICENSE"), "utf8") : undefined;
  for (const ws of rootManifest.workspaces ?? []) {
    const dir = join(root, ws);
    const m = readJson<Manifest>(join(dir, "package.json"));
    const at = `${ws}/package.json`;
    const say = (problem: string) => problems.push(`${at}: ${problem}`);
    if (m.private === true) say("is private (every package is published)");
    if (m.license !== rootManifest.license)
      say(`license is ${m.license}, not the root's ${rootManifest.license}`);
    if (m.engines?.node === undefined) say("has no engines.node");
    if (!(m.files ?? []).includes("dist")) say('has no "dist" in files');
    if (m.publishConfig?.access !== "public") say('has no publishConfig.access "public" (a scoped package)');
    if (m.scripts?.prepack !== PREPACK) say(`scripts.prepack is not "${PREPACK}"`);
    if (m.scripts?.postpack !== POSTPACK) say(`scripts.postpack is not "${POSTPACK}"`);
    if (!existsSync(join(dir, "README.md"))) problems.push(`${ws}: has no README.md`);
    if (license === undefined || !existsSync(join(dir, "LICENSE"))) problems.push(`${ws}: has no LICENSE`);
    else if (readFileSync(join(dir, "LICENSE"), "utf8") !== license)
      problems.push(`${ws}/LICENSE: differs from the root's LICENSE`);
    for (const [field, map] of [
      ["exports", m.exports],
      ["imports", m.imports],
    ] as const)
      for (const [key, target] of Object.entries(map ?? {})) {
        if (key === "./package.json") continue;
        const where = `${field}["${key}"]`;
        if (typeof target !== "object" || target === null) {
          say(`${where} is not { "keyward-source", "types", "default" }`);
          continue;
        }
        const t = target as Record<string, unknown>;
        const source = t["keyward-source"];
        if (
          Object.keys(t).join() !== "keyward-source,types,default" ||
          typeof source !== "string" ||
          !/^\.\/.+\.ts$/.test(source)
        ) {
          say(`${where} is not { "keyward-source": "./P.ts", "types": …, "default": … } in that order`);
          continue;
        }
        const base = source.slice(2, -3);
        if (!existsSync(join(dir, source))) say(`${where} keyward-source: ${source} does not exist`);
        if (t.types !== `./dist/${base}.d.ts`) say(`${where} types is not ./dist/${base}.d.ts`);
        if (t.default !== `./dist/${base}.js`) say(`${where} default is not ./dist/${base}.js`);
      }
    const bins = typeof m.bin === "string" ? { [m.name ?? ""]: m.bin } : (m.bin ?? {});
    for (const [name, file] of Object.entries(bins)) {
      if (!file.endsWith(".js")) say(`bin ${name} is ${file}, not JavaScript`);
      else if (!existsSync(join(dir, file))) say(`bin ${name}: ${file} does not exist`);
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkPackages(process.cwd());
  if (problems.length > 0) {
    process.stderr.write(`${problems.join("\n")}\n`);
    process.exitCode = 1;
  }
}
