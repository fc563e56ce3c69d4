import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { policyReader } from "../../../kernel/grants.ts";
import { readOptions } from "../../../ops/options.ts";
import { secretsFeature } from "../feature.ts";
import { confineFileReference, jsonFileSource } from "./json-file.ts";
import type { SourceContext } from "./source.ts";

const root = mkdtempSync(join(tmpdir(), "keyward-file-source-"));
after(() => rmSync(root, { recursive: true, force: true }));
const allowed = join(root, "allowed");
mkdirSync(allowed);
writeFileSync(join(allowed, "app.json"), JSON.stringify({ password: "pw-1", n: 3 }));
writeFileSync(join(root, "host-creds.json"), JSON.stringify({ private_key: "HOST-KEY" }), { mode: 0o600 });
symlinkSync(join(root, "host-creds.json"), join(allowed, "escape.json"));
symlinkSync("/dev/zero", join(allowed, "zero.json"));
assert.equal(spawnSync("mkfifo", [join(allowed, "fifo.json")]).status, 0);
mkdirSync(join(allowed, "sub"));
symlinkSync(join(allowed, "app.json"), join(allowed, "sub", "inside-link.json"));

const optionsWith = (flags: Record<string, string>) =>
  readOptions(secretsFeature.options ?? [], { dataDir: root, flags, env: {} });
// The secrets feature's grant kinds (the service's reader has every feature's).
const POLICY_READER = policyReader(secretsFeature.grants ?? []);
const confined = optionsWith({ secretFileDirs: allowed });
const ctx = (options = confined) => ({ options }) as unknown as SourceContext;

describe("file: secret sources", () => {
  it("are refused when the service names no directory (the default)", async () => {
    const none = optionsWith({});
    assert.match(confineFileReference(`file:${allowed}/app.json#password`, none) ?? "", /--secret-file-dirs/);
    await assert.rejects(jsonFileSource.read(`file:${allowed}/app.json#password`, ctx(none)), {
      code: "ERR_SERVICE_SOURCE_UNSUPPORTED",
    });
  });

  it("read a field of a JSON file inside a configured directory, links inside it included", async () => {
    const r = await jsonFileSource.read(`file:${allowed}/app.json#password`, ctx());
    assert.equal(new TextDecoder().decode(r.value), "pw-1");
    const linked = await jsonFileSource.read(`file:${allowed}/sub/inside-link.json#password`, ctx());
    assert.equal(new TextDecoder().decode(linked.value), "pw-1");
    for (const ref of [
      `file:${allowed}/app.json#n`,
      `file:${allowed}/app.json#missing`,
      `file:${allowed}/none.json#x`,
    ])
      await assert.rejects(jsonFileSource.read(ref, ctx()), { code: "ERR_SERVICE_SECRET_NOT_FOUND" }, ref);
  });

  it("refuse paths outside, climbing out, relative or malformed, on their text", () => {
    for (const ref of [
      `file:${root}/host-creds.json#private_key`,
      `file:${allowed}/../host-creds.json#private_key`,
      `file:${allowed}/./app.json#password`,
      `file:${allowed}//app.json#password`,
      "file:allowed/app.json#password",
      `file:${allowed}-other/app.json#password`,
      `file:${allowed}/app.json`,
      `file:${allowed}/app.json#`,
      "file:/dev/zero#x",
    ])
      assert.ok(confineFileReference(ref, confined) !== undefined, ref);
    assert.equal(confineFileReference(`file:${allowed}/app.json#password`, confined), undefined);
  });

  // ../shared/cases/policy-file-grant-any-path: a policy once read a root-only credentials file, and
  // `file:/dev/zero#x` froze the service reading it on the event loop.
  it("refuse a link leading outside, and never read a device or a FIFO", async () => {
    await assert.rejects(jsonFileSource.read(`file:${allowed}/escape.json#private_key`, ctx()), {
      code: "ERR_SERVICE_SOURCE_UNSUPPORTED",
      message: /leads outside/,
    });
    await assert.rejects(jsonFileSource.read(`file:${allowed}/zero.json#x`, ctx()), {
      code: "ERR_SERVICE_SOURCE_UNSUPPORTED",
    });
    // A FIFO inside the directory: refused by the bounded reader before any read (never blocks).
    await assert.rejects(
      jsonFileSource.read(`file:${allowed}/fifo.json#x`, ctx()),
      (e: Error & { code?: string; cause?: { detail?: { reason?: string } } }) => {
        assert.equal(e.code, "ERR_SERVICE_SECRET_NOT_FOUND");
        assert.equal(e.cause?.detail?.reason, "not-regular");
        return true;
      },
    );
  });

  it("make a policy that names anything else invalid when it is read (files and stored policies alike)", () => {
    const reader = POLICY_READER.confined(confined);
    const doc = (secrets: Record<string, string>) => ({ id: "p", platforms: ["simulated"], secrets });
    assert.ok(reader.policy(doc({ a: `file:${allowed}/app.json#password` }), "ok"));
    assert.throws(
      () =>
        reader.policy(
          doc({ host: `file:${root}/host-creds.json#private_key`, zero: "file:/dev/zero#x" }),
          "p",
        ),
      (e: Error & { code?: string; detail?: { problems?: string[] } }) => {
        assert.equal(e.code, "ERR_POLICY_INVALID");
        assert.deepEqual(
          e.detail?.problems?.map((p) => p.split(":")[0]),
          ["$.secrets.host", "$.secrets.zero"],
        );
        return true;
      },
    );
    // vault: only with a Vault address, and only paths inside their mount.
    assert.throws(() => reader.policy(doc({ a: "vault:kv/app#pw" }), "p"), /no Vault address/);
    const withVault = POLICY_READER.confined(optionsWith({ vaultAddr: "http://127.0.0.1:8200" }));
    assert.ok(withVault.policy(doc({ a: "vault:kv/app#pw" }), "p"));
    assert.throws(() => withVault.policy(doc({ a: "vault:kv/../sys/x" }), "p"), /'\.\.' segments/);
    // The unconfined reader (tools reading a policy outside any service) checks shapes only.
    assert.ok(POLICY_READER.policy(doc({ a: "file:/etc/shadow#x" }), "p"));
  });
});
