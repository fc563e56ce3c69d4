import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isKeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { INPUT_LIMITS } from "./limits.ts";
import {
  type ReadOptions,
  readFileBounded,
  readFileBoundedAsync,
  readFileChunks,
  readTextBounded,
  readTextBoundedAsync,
} from "./read-file.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-io-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const opts = (maxBytes?: number): ReadOptions => ({
  kind: "evidence",
  what: "quote",
  ...(maxBytes === undefined ? {} : { maxBytes }),
});

/** Asserts that `f` fails with ERR_IO and the given reason, synchronously and asynchronously. */
async function refuses(path: string, reason: string, options = opts()): Promise<void> {
  const check = (e: unknown) => {
    assert.ok(isKeywardError(e, "ERR_IO"), String(e));
    assert.equal(e.detail?.reason, reason, e.message);
    assert.equal(e.detail?.path, path);
    assert.ok(e.message.startsWith(`${options.what} ${path}: `), e.message);
    return true;
  };
  assert.throws(() => readFileBounded(path, options), check);
  assert.throws(() => readFileChunks(path, options, () => assert.fail("read a refused file")), check);
  await assert.rejects(readFileBoundedAsync(path, options), check);
}

describe("the bounded file reader", () => {
  writeFileSync(at("quote.bin"), Uint8Array.of(1, 2, 3));
  mkdirSync(at("dir"));
  symlinkSync("/dev/zero", at("zero"));
  symlinkSync(at("quote.bin"), at("link"));
  symlinkSync(at("loop-a"), at("loop-b"));
  symlinkSync(at("loop-b"), at("loop-a"));
  assert.equal(spawnSync("mkfifo", [at("fifo")]).status, 0, "mkfifo");

  it("reads a regular file, and one reached through a symbolic link", async () => {
    assert.deepEqual(readFileBounded(at("quote.bin"), opts()), Uint8Array.of(1, 2, 3));
    assert.deepEqual(readFileBounded(at("link"), opts()), Uint8Array.of(1, 2, 3));
    assert.deepEqual(await readFileBoundedAsync(at("link"), opts()), Uint8Array.of(1, 2, 3));
  });

  it("refuses devices, directories, FIFOs and sockets without reading (and without blocking)", async () => {
    await refuses(at("zero"), "not-regular");
    await refuses("/dev/null", "not-regular");
    await refuses(at("dir"), "not-regular");
    await refuses(at("fifo"), "not-regular");
    const socket = at("s.sock");
    const server = createServer().listen(socket);
    await new Promise((r) => server.once("listening", r));
    try {
      await refuses(socket, "not-regular");
    } finally {
      server.close();
    }
  });

  it("maps every failure of the file system to ERR_IO with the errno as reason", async () => {
    await refuses(at("missing"), "ENOENT");
    await refuses(join(at("quote.bin"), "child"), "ENOTDIR");
    await refuses(at("loop-a"), "ELOOP");
    // A regular file whose read fails: /proc/self/mem at offset 0 is unmapped memory.
    await refuses("/proc/self/mem", "EIO");
  });

  it("maps a permission failure to ERR_IO EACCES (as an unprivileged user when run as root)", () => {
    const secret = at("root-only");
    writeFileSync(secret, "x", { mode: 0o600 });
    if (process.getuid?.() !== 0) {
      writeFileSync(secret, "x", { mode: 0o000 });
      assert.throws(() => readFileBounded(secret, opts()), { code: "ERR_IO" });
      return;
    }
    // Root reads any mode: read as "nobody" in a child, through the same module.
    const module = fileURLToPath(new URL("./read-file.ts", import.meta.url));
    const script = `import { readFileBounded } from ${JSON.stringify(module)};
      try { readFileBounded(${JSON.stringify(secret)}, { kind: "key", what: "key" }); console.log("read"); }
      catch (e) { console.log(e.code, e.detail.reason); }`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
      cwd: "/",
    });
    assert.equal(r.stdout.trim(), "ERR_IO EACCES", r.stderr);
  });

  it("refuses a file over its limit from its size, before reading", async () => {
    writeFileSync(at("four"), Uint8Array.of(1, 2, 3, 4));
    assert.equal(readFileBounded(at("four"), opts(4)).byteLength, 4);
    await refuses(at("four"), "too-large", opts(3));
    // A sparse file far over the kind's limit: refused from fstat, not by reading 2 GiB.
    writeFileSync(at("huge"), "");
    truncateSync(at("huge"), 2 ** 31);
    await refuses(at("huge"), "too-large", { kind: "collateral", what: "collateral" });
    await refuses(at("huge"), "too-large", { kind: "trustedFile", what: "trusted file" });
  });

  it("bounds a file whose size says nothing (procfs reports 0 bytes)", () => {
    const text = readTextBounded("/proc/self/status", { kind: "document", what: "status" });
    assert.match(text, /^Name:/);
    assert.throws(
      () => readFileBounded("/proc/self/status", opts(10)),
      (e: unknown) => {
        assert.ok(isKeywardError(e, "ERR_IO"));
        return e.detail?.reason === "too-large";
      },
    );
  });

  it("takes the lower of the kind's limit and the caller's", () => {
    writeFileSync(at("65k"), new Uint8Array(INPUT_LIMITS.key + 1));
    assert.throws(() => readFileBounded(at("65k"), { kind: "key", what: "key", maxBytes: 1 << 30 }), {
      code: "ERR_IO",
    });
  });

  it("decodes strict UTF-8 and refuses anything else as ERR_IO", async () => {
    writeFileSync(at("text"), "\uFEFFpolicy: ü");
    assert.equal(readTextBounded(at("text"), opts()), "policy: ü");
    assert.equal(await readTextBoundedAsync(at("text"), opts()), "policy: ü");
    writeFileSync(at("latin1"), Uint8Array.of(0x70, 0xfc));
    await assert.rejects(readTextBoundedAsync(at("latin1"), opts()), { code: "ERR_IO" });
    assert.throws(
      () => readTextBounded(at("latin1"), opts()),
      (e: unknown) => {
        assert.ok(isKeywardError(e, "ERR_IO"));
        return e.detail?.reason === "not-utf8";
      },
    );
  });

  it("reads any content of any size up to the limit exactly, in every form (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 20_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        async (content, limit) => {
          const path = at("prop");
          writeFileSync(path, content);
          const o = opts(limit);
          if (content.byteLength > limit) {
            assert.throws(() => readFileBounded(path, o), { code: "ERR_IO" });
            await assert.rejects(readFileBoundedAsync(path, o), { code: "ERR_IO" });
            return;
          }
          assert.deepEqual(readFileBounded(path, o), content);
          assert.deepEqual(await readFileBoundedAsync(path, o), content);
          const chunks: Uint8Array[] = [];
          const n = readFileChunks(path, o, (c) => chunks.push(c.slice()));
          assert.equal(n, content.byteLength);
          assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), content);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("streams a large file in bounded chunks", () => {
    const size = 3 * (1 << 20) + 5;
    writeFileSync(at("big"), new Uint8Array(size).fill(7));
    let largest = 0;
    const n = readFileChunks(at("big"), { kind: "trustedFile", what: "trusted file" }, (c) => {
      largest = Math.max(largest, c.byteLength);
    });
    assert.equal(n, size);
    assert.equal(largest, 1 << 20);
  });
});
