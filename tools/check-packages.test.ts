import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPackages } from "./check-packages.ts";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const GOOD = {
  name: "@keyward/a",
  version: "0.1.0",
  license: "Apache-2.0",
  engines: { node: ">=22.18" },
  files: ["dist", "src", "!**/*.test.ts"],
  exports: {
    "./x": {
      "keyward-source": "./src/x/index.ts",
      types: "./dist/src/x/index.d.ts",
      default: "./dist/src/x/index.js",
    },
    "./package.json": "./package.json",
  },
  scripts: {
    prepack: "node ../../tools/build-packages.ts .",
    postpack: "node ../../tools/build-packages.ts --clean .",
  },
  publishConfig: { access: "public" },
};

/** A repository with one workspace `packages/a` whose manifest is GOOD changed by `patch`. */
function tree(patch: Record<string, unknown>, files: Record<string, string | undefined> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "keyward-packages-"));
  roots.push(root);
  const all: Record<string, string | undefined> = {
    "package.json": JSON.stringify({ name: "r", license: "Apache-2.0", workspaces: ["packages/a"] }),
    LICENSE: "the licence\n",
    "packages/a/package.json": JSON.stringify({ ...GOOD, ...patch }),
    "packages/a/LICENSE": "the licence\n",
    "packages/a/README.md": "# a\n",
    "packages/a/src/x/index.ts": "export const x = 1;\n",
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    if (text === undefined) continue;
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const expectOne = (root: string, pattern: RegExp) => {
  const problems = checkPackages(root);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected ${pattern} among: ${problems.join(" | ") || "(none)"}`,
  );
};

describe("checkPackages", () => {
  it("passes the repository and a well-formed package", () => {
    assert.deepEqual(checkPackages(fileURLToPath(new URL("../", import.meta.url))), []);
    assert.deepEqual(checkPackages(tree({})), []);
  });

  it("names each rule a package breaks", () => {
    expectOne(tree({ private: true }), /is private/);
    expectOne(tree({ license: "MIT" }), /license is MIT/);
    expectOne(tree({ engines: undefined }), /engines\.node/);
    expectOne(tree({ files: ["src"] }), /"dist" in files/);
    expectOne(tree({ publishConfig: undefined }), /publishConfig/);
    expectOne(tree({ scripts: { prepack: GOOD.scripts.prepack } }), /postpack/);
    expectOne(tree({ scripts: { postpack: GOOD.scripts.postpack } }), /prepack/);
    expectOne(tree({}, { "packages/a/README.md": undefined }), /no README\.md/);
    expectOne(tree({}, { "packages/a/LICENSE": undefined }), /no LICENSE/);
    expectOne(tree({}, { "packages/a/LICENSE": "another licence\n" }), /differs from the root's LICENSE/);
    expectOne(tree({ exports: { "./x": "./src/x/index.ts" } }), /exports\["\.\/x"\] is not \{/);
    expectOne(
      tree({
        exports: { "./x": { types: "./dist/src/x/index.d.ts", "keyward-source": "./src/x/index.ts" } },
      }),
      /in that order/,
    );
    expectOne(
      tree({
        exports: {
          "./y": { "keyward-source": "./src/y.ts", types: "./dist/src/y.d.ts", default: "./dist/src/y.js" },
        },
      }),
      /src\/y\.ts does not exist/,
    );
    expectOne(
      tree({
        exports: {
          "./x": {
            "keyward-source": "./src/x/index.ts",
            types: "./dist/x/index.d.ts",
            default: "./dist/src/x/index.js",
          },
        },
      }),
      /types is not \.\/dist\/src\/x\/index\.d\.ts/,
    );
    expectOne(
      tree({
        imports: {
          "#a": {
            "keyward-source": "./src/x/index.ts",
            types: "./dist/src/x/index.d.ts",
            default: "./dist/x.js",
          },
        },
      }),
      /imports\["#a"\] default is not/,
    );
    expectOne(tree({ bin: { a: "./bin/a.ts" } }), /bin a is \.\/bin\/a\.ts, not JavaScript/);
    expectOne(tree({ bin: { a: "./bin/a.js" } }), /bin a: \.\/bin\/a\.js does not exist/);
  });
});
