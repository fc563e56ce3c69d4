import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { verifyChain } from "../../src/audit/chain.ts";
import { POLICY_READER } from "../../src/main.ts";
import { clientAs, seedPolicy, startFixture } from "./helpers.ts";

describe("GetSecrets over mutual RA-TLS gRPC", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  before(async () => {
    f = await startFixture([seedPolicy("hello", 0xc1)]);
  });
  after(async () => {
    await f.service.close();
    await f.store.close();
  });

  it("releases the granted secret to an accepted enclave, audited before the response", async () => {
    const client = await clientAs(f.platform, f.service.port, 0xc1);
    const r = await client.getSecrets({});
    assert.equal(r.policyId, "hello");
    assert.deepEqual(
      r.secrets.map((s) => [s.name, new TextDecoder().decode(s.value), s.version]),
      [["master_key", "s3cr3t-image-key", 1]],
    );
    const audit = await f.store.readAudit();
    const last = audit.at(-1);
    assert.equal(last?.action, "secrets.get");
    assert.equal(last?.outcome, "allowed");
    assert.equal(last?.subject, `sgx:${"c1".repeat(32)}`);
    assert.ok(!JSON.stringify(audit).includes("s3cr3t"));
  });

  it("refuses an enclave that no policy accepts (a modified app) with PermissionDenied", async () => {
    const client = await clientAs(f.platform, f.service.port, 0xc2);
    await assert.rejects(client.getSecrets({}), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.PermissionDenied);
      assert.match(e.message, /ERR_SERVICE_DENIED/);
      return true;
    });
    const last = (await f.store.readAudit()).at(-1);
    assert.equal(last?.outcome, "denied");
    assert.equal(last?.subject, `sgx:${"c2".repeat(32)}`);
  });

  it("refuses a debug enclave under the default policy", async () => {
    const client = await clientAs(f.platform, f.service.port, 0xc1, true);
    await assert.rejects(
      client.getSecrets({}),
      (e: unknown) => e instanceof ConnectError && e.code === Code.PermissionDenied,
    );
  });

  it("refuses names the policy does not grant", async () => {
    const client = await clientAs(f.platform, f.service.port, 0xc1);
    await assert.rejects(
      client.getSecrets({ names: ["other"] }),
      (e: unknown) => e instanceof ConnectError && e.code === Code.PermissionDenied,
    );
    await assert.rejects(
      client.getSecrets({ names: Array.from({ length: 300 }, (_, i) => `n${i}`) }),
      (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument,
    );
  });

  it("keeps one intact audit chain", async () => {
    const v = verifyChain(await f.store.readAudit());
    assert.equal(v.ok, true);
    assert.ok(v.entries >= 5);
  });
});

describe("debug and simulated evidence under default and permissive policies", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  before(async () => {
    f = await startFixture([
      // Default platforms (hardware only): simulated evidence is refused even by the simulation service.
      POLICY_READER.policy(
        { id: "defaults", mr_enclave: "d3".repeat(32), secrets: { k: "occlum/1/image_key" } },
        "defaults.json",
      ),
      // Permissive: simulated platform and debug enclaves allowed, explicitly.
      seedPolicy("permissive", 0xd4, { allowDebug: true }),
    ]);
  });
  after(async () => {
    await f.service.close();
    await f.store.close();
  });

  it("refuses simulated evidence under a policy with default platforms, and audits the failed rule", async () => {
    const client = await clientAs(f.platform, f.service.port, 0xd3);
    await assert.rejects(
      client.getSecrets({}),
      (e: unknown) => e instanceof ConnectError && e.code === Code.PermissionDenied,
    );
    const last = (await f.store.readAudit()).at(-1);
    // Only the policies that pin this caller's measurement (or none) are candidates: "permissive"
    // pins another MRENCLAVE and is not appraised (admin explain appraises any policy on request).
    assert.deepEqual(last?.detail?.policies, ["defaults:platform"]);
  });

  it("releases to a debug enclave only where the policy allows debug", async () => {
    const debug = await clientAs(f.platform, f.service.port, 0xd4, true);
    assert.equal((await debug.getSecrets({})).policyId, "permissive");
    const debugDefaults = await clientAs(f.platform, f.service.port, 0xd3, true);
    await assert.rejects(debugDefaults.getSecrets({}));
    const last = (await f.store.readAudit()).at(-1);
    assert.deepEqual(last?.detail?.policies, ["defaults:platform+debug"]);
  });
});
