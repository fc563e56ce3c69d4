import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { findDirectories, findThreads, TARGETS } from "./build-sea.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-build-sea-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const source = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe("build-sea: what a bundle needs besides its main script", () => {
  it("finds each thread by its literal startThread call", () => {
    const file = source(
      "writer.ts",
      'const w = startThread("audit-writer", new URL("./writer-thread.ts", import.meta.url), {});\n',
    );
    assert.deepEqual(findThreads([file]), new Map([["audit-writer", join(dir, "writer-thread.ts")]]));
  });

  it("refuses a startThread call it cannot read, rather than build an executable without the thread", () => {
    const file = source("bad-thread.ts", "const w = startThread(name, url);\n");
    assert.throws(() => findThreads([file]), /startThread must be called as/);
  });

  it("finds bundled directories given literally or through a const URL", () => {
    mkdirSync(join(dir, "vectors"));
    mkdirSync(join(dir, "app"));
    const file = source(
      "demo.ts",
      [
        'const vectorsUrl = new URL("./vectors/", import.meta.url);',
        'openBundledDirectory("dcap-vectors", vectorsUrl);',
        'openBundledDirectory("app", new URL("./app/", import.meta.url));',
      ].join("\n"),
    );
    assert.deepEqual(
      findDirectories([file]),
      new Map([
        ["dcap-vectors", join(dir, "vectors/")],
        ["app", join(dir, "app/")],
      ]),
    );
  });

  it("refuses a directory that does not exist or a URL it cannot see", () => {
    const missing = source("missing.ts", 'openBundledDirectory("x", new URL("./nope/", import.meta.url));\n');
    assert.throws(() => findDirectories([missing]), /is not a directory/);
    const opaque = source("opaque.ts", 'openBundledDirectory("x", urlFromSomewhere());\n');
    assert.throws(() => findDirectories([opaque]), /must be called as/);
  });

  it("names a bin for every target", () => {
    // The CLI's bin, or an enclave app's (otpqr) under examples/.
    for (const [name, t] of Object.entries(TARGETS))
      assert.match(t.bin, /^(packages|examples)\/.+\.ts$/, name);
  });
});
