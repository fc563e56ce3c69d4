/** Vault KV v2 grants, against an in-process node:http server answering as Vault's KV v2 API does. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { readVaultKv2 } from "../../src/features/secrets/sources/vault-kv2.ts";

describe("Vault KV v2 source", () => {
  const seen: { url: string; token: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", token: req.headers["x-vault-token"] as string | undefined });
    if (req.headers["x-vault-token"] !== "app-token") {
      res
        .writeHead(403, { "content-type": "application/json" })
        .end(JSON.stringify({ errors: ["permission denied"] }));
      return;
    }
    if (req.url === "/v1/secret/data/occlum/1") {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          request_id: "x",
          data: { data: { image_key: "from-vault" }, metadata: { version: 3, destroyed: false } },
        }),
      );
      return;
    }
    if (req.url === "/v1/secret/data/garbled") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"data": {"data": {"k": "v"');
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [] }));
  });
  let addr = "";
  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("reads data.data[field] and metadata.version with the policy's token", async () => {
    const r = await readVaultKv2(addr, "vault:secret/occlum/1#image_key", "app-token");
    assert.equal(new TextDecoder().decode(r.value), "from-vault");
    assert.equal(r.version, 3);
    assert.deepEqual(seen.at(-1), { url: "/v1/secret/data/occlum/1", token: "app-token" });
  });

  it("maps 403, 404, malformed answers, missing fields, bad references and a missing token to error codes", async () => {
    await assert.rejects(readVaultKv2(addr, "vault:secret/occlum/1#image_key", "wrong"), {
      code: "ERR_SERVICE_DENIED",
    });
    await assert.rejects(readVaultKv2(addr, "vault:secret/none#x", "app-token"), {
      code: "ERR_SERVICE_SECRET_NOT_FOUND",
    });
    await assert.rejects(readVaultKv2(addr, "vault:secret/occlum/1#nope", "app-token"), {
      code: "ERR_SERVICE_SECRET_NOT_FOUND",
    });
    await assert.rejects(readVaultKv2(addr, "vault:secret/garbled#k", "app-token"), {
      code: "ERR_SERVICE_SECRET_NOT_FOUND",
      message: /malformed JSON/,
    });
    await assert.rejects(readVaultKv2(addr, "vault:bad", "app-token"), {
      code: "ERR_SERVICE_SOURCE_UNSUPPORTED",
    });
    await assert.rejects(readVaultKv2(addr, "vault:secret/occlum/1#image_key", undefined), {
      code: "ERR_SERVICE_SOURCE_UNSUPPORTED",
    });
  });
});
