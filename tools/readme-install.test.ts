/**
 * The README's "Install from npm" section as a new user follows it: the packages are not on the
 * public registry yet, so the README installs the tarballs `npm pack --workspaces` writes. This
 * keeps that command in step with the workspaces: every product package (all but the test-only
 * testkit) at its current version, and nothing that `npm pack` does not write. The install itself
 * is exercised by tools/packages.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;

/** The tarball file names `npm pack` writes for the product workspaces (`@keyward/x` → keyward-x-V.tgz). */
function productTarballs(): string[] {
  const { workspaces = [] } = readJson<{ workspaces?: string[] }>(join(ROOT, "package.json"));
  return workspaces
    .map((ws) => readJson<{ name: string; version: string }>(join(ROOT, ws, "package.json")))
    .filter((m) => m.name !== "@keyward/testkit")
    .map((m) => `${m.name.replace(/^@/, "").replace("/", "-")}-${m.version}.tgz`)
    .sort();
}

/** Expands the one brace group of a shell word (`a-{x,y}-1.tgz` → a-x-1.tgz, a-y-1.tgz). */
function expandBraces(word: string): string[] {
  const m = /^(.*)\{([^{}]*)\}(.*)$/.exec(word);
  return m === null ? [word] : (m[2] ?? "").split(",").map((part) => `${m[1]}${part}${m[3]}`);
}

describe("README: install from the packed tarballs", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## Install from npm"),
    readme.indexOf("## The `keyward` command"),
  );

  it("says the packages are not on the registry and packs them itself", () => {
    assert.ok(section.startsWith("## Install from npm"), "the README has no Install from npm section");
    assert.doesNotMatch(section, /is published to npm/);
    assert.match(section, /npm pack --workspaces --pack-destination/);
  });

  it("installs every product package's tarball at its current version", () => {
    const line = section.split("\n").find((l) => /npm install \S+\.tgz/.test(l));
    assert.ok(line !== undefined, "no npm install of tarballs in the section");
    const word = line.split(/\s+/).find((w) => w.endsWith(".tgz")) ?? "";
    const named = expandBraces(word)
      .map((p) => p.slice(p.lastIndexOf("/") + 1))
      .sort();
    assert.deepEqual(named, productTarballs());
  });
});
