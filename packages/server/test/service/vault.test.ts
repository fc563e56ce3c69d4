/**
 * The Vault source against the in-process Vault contract server (@keyward/testkit/vault, built
 * from Vault's API reference): KV version 1 and 2 detected per mount as the Vault CLI does, the
 * seed deployment's layout (`vault secrets enable -path=occlum/1 kv`, `vault kv put
 * occlum/1/image_key key=…`) read through the service with `--secret-backend vault`, 403 and 404
 * as distinct errors, and the start-up token lookup.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startVaultContract, type VaultContractServer } from "@keyward/testkit/vault";
import { checkAppTokens, readVault } from "../../src/features/secrets/sources/vault.ts";
import { clientAs, seedPolicy, startFixture } from "./helpers.ts";

let vault: VaultContractServer;
let clock = Date.now();
let app1 = "";
let kv2Token = "";
before(async () => {
  vault = await startVaultContract({ now: () => clock });
  const s = vault.state;
  s.enableKv("occlum/1", 1);
  s.enableKv("occlum/2", 1);
  s.enableKv("secret", 2);
  s.put("occlum/1/image_key", { key: "42-cd-4b-24-f6-0f-a5-33" });
  s.put("occlum/1/rsa_pair", { public: "pub", private: "priv" });
  s.put("occlum/2/image_key", { key: "app2-key" });
  s.put("secret/occlum/1", { image_key: "v1-of-kv2" });
  s.put("secret/occlum/1", { image_key: "from-kv2" });
  s.put("secret/gone", { k: "v" });
  s.delete("secret/gone");
  s.put("secret/burnt", { k: "v" });
  s.destroy("secret/burnt", 1);
  app1 = s.createToken({ rules: [{ path: "occlum/1/*", capabilities: ["read"] }], ttlSeconds: 30 * 86400 });
  kv2Token = s.createToken({ rules: [{ path: "secret/data/*", capabilities: ["read"] }], ttlSeconds: 3600 });
});
after(() => vault.close());

describe("Vault source: KV v1 and v2", () => {
  it("reads KV v1 under a two-segment mount, the only field when none is named", async () => {
    const r = await readVault(vault.addr, "vault:occlum/1/image_key", app1);
    assert.equal(new TextDecoder().decode(r.value), "42-cd-4b-24-f6-0f-a5-33");
    assert.equal(r.version, 0);
    assert.deepEqual(
      vault.requests.slice(-2).map((q) => q.path),
      ["/v1/sys/internal/ui/mounts/occlum/1/image_key", "/v1/occlum/1/image_key"],
    );
    const named = await readVault(vault.addr, "occlum/1/rsa_pair#private", app1);
    assert.equal(new TextDecoder().decode(named.value), "priv");
  });

  it("reads KV v2 at MOUNT/data/PATH with its version", async () => {
    const r = await readVault(vault.addr, "vault:secret/occlum/1#image_key", kv2Token);
    assert.equal(new TextDecoder().decode(r.value), "from-kv2");
    assert.equal(r.version, 2);
    assert.equal(vault.requests.at(-1)?.path, "/v1/secret/data/occlum/1");
  });

  it("reads an old Vault without the preflight endpoint as KV v1, as the CLI does", async () => {
    vault.state.withoutPreflight = true;
    try {
      const r = await readVault(vault.addr, "vault:occlum/1/image_key#key", app1);
      assert.equal(new TextDecoder().decode(r.value), "42-cd-4b-24-f6-0f-a5-33");
    } finally {
      vault.state.withoutPreflight = false;
    }
  });

  it("403 (no access, another app's mount, bad token) and 404 (no secret) are distinct errors", async () => {
    // app1's token on app2's secrets: the preflight is refused.
    await assert.rejects(readVault(vault.addr, "vault:occlum/2/image_key", app1), {
      code: "ERR_VAULT_FORBIDDEN",
      message: /may not read there/,
    });
    await assert.rejects(readVault(vault.addr, "vault:occlum/1/image_key", "hvs.not-a-token"), {
      code: "ERR_VAULT_FORBIDDEN",
    });
    await assert.rejects(readVault(vault.addr, "vault:occlum/1/missing", app1), {
      code: "ERR_VAULT_NOT_FOUND",
      message: /no secret at "occlum\/1\/missing"/,
    });
    await assert.rejects(readVault(vault.addr, "vault:secret/none#x", kv2Token), {
      code: "ERR_VAULT_NOT_FOUND",
    });
    await assert.rejects(readVault(vault.addr, "vault:secret/gone#k", kv2Token), {
      code: "ERR_VAULT_NOT_FOUND",
      message: /was deleted/,
    });
    await assert.rejects(readVault(vault.addr, "vault:secret/burnt#k", kv2Token), {
      code: "ERR_VAULT_NOT_FOUND",
      message: /was destroyed/,
    });
    await assert.rejects(readVault(vault.addr, "vault:occlum/1/rsa_pair", app1), {
      code: "ERR_VAULT_NOT_FOUND",
      message: /has 2 fields/,
    });
    await assert.rejects(readVault(vault.addr, "vault:occlum/1/image_key#nope", app1), {
      code: "ERR_VAULT_NOT_FOUND",
    });
  });

  it("refuses bad references, a missing token, and an unreachable or sealed Vault", async () => {
    for (const ref of ["vault:bad", "vault:occlum/../sys/x", "vault:occlum//1", "vault:occlum/1/k#"])
      await assert.rejects(readVault(vault.addr, ref, app1), { code: "ERR_SERVICE_SOURCE_UNSUPPORTED" }, ref);
    await assert.rejects(readVault(vault.addr, "vault:occlum/1/image_key", undefined), {
      code: "ERR_SERVICE_SOURCE_UNSUPPORTED",
    });
    vault.state.sealed = true;
    try {
      await assert.rejects(readVault(vault.addr, "vault:occlum/1/image_key", app1), {
        code: "ERR_VAULT_UNAVAILABLE",
        message: /sealed/,
      });
    } finally {
      vault.state.sealed = false;
    }
    await assert.rejects(readVault("http://127.0.0.1:9", "vault:occlum/1/image_key", app1), {
      code: "ERR_VAULT_UNAVAILABLE",
    });
  });

  it("maps malformed and oversized answers to ERR_VAULT_UNAVAILABLE", async () => {
    const garbled = createServer((req, res) => {
      if (req.url?.startsWith("/v1/sys/")) return void res.writeHead(404).end();
      if (req.url === "/v1/m/huge") return void res.writeHead(200).end("x".repeat(2 * 1024 * 1024));
      res.writeHead(200, { "content-type": "application/json" }).end('{"data": {"k": "v"');
    });
    await new Promise<void>((r) => garbled.listen(0, "127.0.0.1", r));
    const addr = `http://127.0.0.1:${(garbled.address() as AddressInfo).port}`;
    try {
      await assert.rejects(readVault(addr, "vault:m/garbled#k", "t"), {
        code: "ERR_VAULT_UNAVAILABLE",
        message: /malformed JSON/,
      });
      await assert.rejects(readVault(addr, "vault:m/huge#k", "t"), {
        code: "ERR_VAULT_UNAVAILABLE",
        message: /larger than 1 MiB/,
      });
    } finally {
      garbled.close();
    }
  });
});

describe("app tokens looked up at start", () => {
  it("says which token is valid, about to expire, expired or missing", async () => {
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const log = (level: string) => (obj: object, msg?: string) =>
      void lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? "" });
    const logger = { info: log("info"), warn: log("warn"), error: log("error") };
    const soon = vault.state.createToken({ rules: [], ttlSeconds: 3600 });
    const expired = vault.state.createToken({ rules: [], ttlSeconds: 60 });
    clock += 120_000;
    const policies = [
      seedPolicy("fine", 1, { app_token: app1, secrets: { k: "occlum/1/image_key" } }),
      seedPolicy("soon", 2, { app_token: soon, secrets: { k: "vault:occlum/1/image_key" } }),
      seedPolicy("expired", 3, { app_token: expired, secrets: { k: "vault:occlum/1/image_key" } }),
      seedPolicy("missing", 4, { app_token: undefined, secrets: { k: "vault:occlum/1/image_key" } }),
      seedPolicy("store-only", 5, { app_token: expired, secrets: { k: "store:x" } }),
    ];
    await checkAppTokens(vault.addr, policies, (r) => !r.startsWith("store:"), logger);
    const by = (id: string) => lines.find((l) => l.obj.policy === id);
    assert.equal(by("fine")?.level, "info");
    assert.match(by("fine")?.msg ?? "", /valid for 29 d/);
    assert.equal(by("soon")?.level, "warn");
    assert.match(by("soon")?.msg ?? "", /expires in 5\d min/);
    assert.equal(by("expired")?.level, "error");
    assert.equal(by("expired")?.obj.code, "ERR_VAULT_FORBIDDEN");
    assert.equal(by("missing")?.level, "error");
    assert.equal(by("store-only"), undefined);
    assert.ok(!JSON.stringify(lines).includes(app1), "no token in a log line");
  });
});

describe("--secret-backend vault: a seed-format policy against an existing Vault", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  before(async () => {
    f = await startFixture(
      [
        seedPolicy("app1", 0xa1, { app_token: app1, secrets: { master_key: "occlum/1/image_key" } }),
        seedPolicy("app1-wrong-mount", 0xa2, {
          app_token: app1,
          secrets: { master_key: "occlum/2/image_key" },
        }),
      ],
      { serviceFlags: { vaultAddr: vault.addr, secretBackend: "vault" } },
    );
  });
  after(() => f.service.close());

  it("releases occlum/1/image_key from KV v1 over mutual RA-TLS, and refuses another app's mount", async () => {
    const r = await (await clientAs(f.platform, f.service.port, 0xa1)).getSecrets({ names: [] });
    assert.equal(r.policyId, "app1");
    assert.equal(new TextDecoder().decode(r.secrets[0]?.value), "42-cd-4b-24-f6-0f-a5-33");
    const other = await clientAs(f.platform, f.service.port, 0xa2);
    await assert.rejects(other.getSecrets({ names: [] }), /ERR_VAULT_FORBIDDEN/);
    const audit = await f.store.readAudit();
    const last = audit.at(-1);
    assert.equal(last?.outcome, "error");
    assert.equal((last?.detail as { code?: string } | undefined)?.code, "ERR_VAULT_FORBIDDEN");
  });
});
