import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { verifyChain } from "../../src/audit/chain.ts";
import { createOrRotateKey } from "../../src/kernel/keys.ts";
import { kmsClientAs, seedPolicy, startFixture } from "./helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const denied = (e: unknown) => e instanceof ConnectError && e.code === Code.PermissionDenied;

describe("KMS over mutual RA-TLS", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  before(async () => {
    f = await startFixture([
      seedPolicy("app", 0xc1, {
        keys: {
          p256: ["sign", "verify", "getPublicKey"],
          ed: ["sign", "verify", "getPublicKey"],
          rsa: ["sign", "verify", "getPublicKey"],
          aes: ["encrypt", "decrypt", "wrap", "unwrap"],
        },
      }),
    ]);
    for (const [id, alg] of [
      ["p256", "P-256"],
      ["ed", "Ed25519"],
      ["rsa", "RSA-3072"],
      ["aes", "AES-256-GCM"],
    ] as const)
      await createOrRotateKey(f.store, f.masterKey, id, alg, "admin:test");
  });
  after(async () => {
    await f.service.close();
    await f.store.close();
  });

  it("signs with P-256, Ed25519 and RSA-3072; signatures verify outside the service with the public key", async () => {
    const kms = await kmsClientAs(f.platform, f.service.port, 0xc1);
    for (const id of ["p256", "ed", "rsa"]) {
      const msg = enc(`hello ${id}`);
      const { signature } = await kms.sign({ keyId: id, message: msg });
      const { spki, algorithm } = await kms.getPublicKey({ keyId: id });
      const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
      const ok =
        algorithm === "Ed25519"
          ? verify(null, msg, key, signature)
          : algorithm === "P-256"
            ? verify("sha256", msg, { key, dsaEncoding: "ieee-p1363" }, signature)
            : verify("sha256", msg, { key, padding: 6, saltLength: 32 }, signature);
      assert.equal(ok, true, id);
      assert.equal((await kms.verify({ keyId: id, message: msg, signature })).valid, true);
      assert.equal((await kms.verify({ keyId: id, message: enc("other"), signature })).valid, false);
    }
  });

  it("encrypts and decrypts with AAD; rotation keeps old versions usable", async () => {
    const kms = await kmsClientAs(f.platform, f.service.port, 0xc1);
    const { ciphertext } = await kms.encrypt({ keyId: "aes", plaintext: enc("data"), aad: enc("ctx") });
    await assert.rejects(kms.decrypt({ keyId: "aes", ciphertext, aad: enc("other") }));
    await createOrRotateKey(f.store, f.masterKey, "aes", "AES-256-GCM", "admin:test");
    const { ciphertext: c2 } = await kms.encrypt({ keyId: "aes", plaintext: enc("data2"), aad: enc("ctx") });
    assert.equal(Buffer.from(c2).readUInt32BE(0), 2);
    assert.equal(
      new TextDecoder().decode((await kms.decrypt({ keyId: "aes", ciphertext, aad: enc("ctx") })).plaintext),
      "data",
    );
    const { wrapped } = await kms.wrap({ keyId: "aes", keyMaterial: new Uint8Array(32).fill(7) });
    assert.deepEqual((await kms.unwrap({ keyId: "aes", wrapped })).keyMaterial, new Uint8Array(32).fill(7));
  });

  it("refuses operations the policy does not grant, and other enclaves", async () => {
    const kms = await kmsClientAs(f.platform, f.service.port, 0xc1);
    await assert.rejects(kms.encrypt({ keyId: "p256", plaintext: enc("x") }), denied);
    await assert.rejects(kms.sign({ keyId: "aes", message: enc("x") }), denied);
    const other = await kmsClientAs(f.platform, f.service.port, 0xc2);
    await assert.rejects(other.sign({ keyId: "p256", message: enc("x") }), denied);
    const entries = await f.store.readAudit();
    assert.equal(verifyChain(entries).ok, true);
    assert.ok(entries.some((e) => e.action === "kms.sign" && e.outcome === "denied"));
  });
});

describe("master-key rotation", () => {
  it("re-seals secrets and KMS keys; the old master key no longer opens them, the new one does", async () => {
    const { randomBytes } = await import("node:crypto");
    const { openSecret } = await import("../../src/kernel/envelope.ts");
    const { rotateMasterKey } = await import("../../src/features/admin/rotation.ts");
    const { kmsOperations } = await import("../../src/features/kms/operations.ts");
    const f = await startFixture([seedPolicy("app", 0xc1)]);
    try {
      await createOrRotateKey(f.store, f.masterKey, "k", "Ed25519", "admin:test");
      const sig = await kmsOperations(f.store, f.masterKey).sign("k", enc("m"));
      const next = new Uint8Array(randomBytes(32));
      assert.deepEqual(await rotateMasterKey(f.store, f.masterKey, next, "admin:test"), {
        secrets: 1,
        keys: 1,
        policies: 0,
        sealedValues: 1, // the stable key the composed service created (kernel/stable-key.ts)
      });
      const s = await f.store.getSecret("occlum/1/image_key");
      assert.ok(s !== undefined);
      assert.equal(new TextDecoder().decode(openSecret(next, s.name, s.version, s)), "s3cr3t-image-key");
      assert.throws(() => openSecret(f.masterKey, s.name, s.version, s), {
        code: "ERR_SERVICE_SECRET_INTEGRITY",
      });
      assert.equal(await kmsOperations(f.store, next).verify("k", enc("m"), sig.signature), true);
      await assert.rejects(kmsOperations(f.store, f.masterKey).sign("k", enc("m")), {
        code: "ERR_SERVICE_SECRET_INTEGRITY",
      });
      assert.equal(verifyChain(await f.store.readAudit()).ok, true);
    } finally {
      await f.service.close();
      await f.store.close();
    }
  });
});
