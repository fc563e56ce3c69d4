/**
 * Master-key rotation keeps everything a feature sealed openable: the OTP feature's account
 * secrets are re-wrapped (Feature.reseal) and the stable key (kernel/stable-key.ts), from which the
 * licensing server derives its password pepper and token keys, is re-sealed unchanged, so no
 * password hash or OTP account is lost to a rotation.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { rotateMasterKey } from "../../src/admin.ts";
import { verifyAuditLog } from "../../src/audit/stream.ts";
import { pepperOf } from "../../src/features/licensing/passwords.ts";
import { otpAccounts } from "../../src/features/otp/accounts.ts";
import { openOtpSecret } from "../../src/features/otp/sealing.ts";
import { loadOrCreateStableKey } from "../../src/kernel/stable-key.ts";
import { FEATURE_MIGRATIONS } from "../../src/main.ts";
import { openSqliteStore } from "../../src/store/sqlite/engine.ts";

const dir = mkdtempSync(join(tmpdir(), "keyward-rotation-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sealedSecretOf = async (store: Awaited<ReturnType<typeof openSqliteStore>>, name: string) => {
  const r = await store.sql.get(
    "SELECT generation, wrapped_key, ciphertext FROM otp_accounts WHERE name = ?",
    [name],
  );
  assert.ok(r !== undefined);
  return {
    generation: Number(r.generation),
    sealed: {
      wrappedKey: new Uint8Array(r.wrapped_key as Uint8Array),
      ciphertext: new Uint8Array(r.ciphertext as Uint8Array),
    },
  };
};

describe("master-key rotation and the features' sealed rows", () => {
  it("re-wraps OTP account secrets and keeps the stable key (and so the licensing pepper)", async () => {
    const store = await openSqliteStore(dir, { migrations: FEATURE_MIGRATIONS });
    try {
      const oldKey = new Uint8Array(randomBytes(32));
      const newKey = new Uint8Array(randomBytes(32));
      const stable = await loadOrCreateStableKey(store.sql, oldKey);
      assert.deepEqual(await loadOrCreateStableKey(store.sql, oldKey), stable, "created once");
      const accounts = otpAccounts(
        store,
        () => oldKey,
        () => new Date(),
      );
      await accounts.create("admin:test", { name: "release-signing", issuer: "Keyward" });
      await accounts.create("admin:test", { name: "db-admins", issuer: "Keyward" });
      const before = await sealedSecretOf(store, "release-signing");
      const secret = openOtpSecret(oldKey, "release-signing", before.generation, before.sealed);

      const counts = await rotateMasterKey(store, oldKey, newKey, "admin:test");
      assert.equal(counts.otp, 2);
      assert.equal(counts.sealedValues, 1);

      const after = await sealedSecretOf(store, "release-signing");
      assert.deepEqual(openOtpSecret(newKey, "release-signing", after.generation, after.sealed), secret);
      assert.throws(() => openOtpSecret(oldKey, "release-signing", after.generation, after.sealed), {
        code: "ERR_SERVICE_SECRET_INTEGRITY",
      });
      const stableAfter = await loadOrCreateStableKey(store.sql, newKey);
      assert.deepEqual(stableAfter, stable, "the stable key survives");
      assert.deepEqual(pepperOf(stableAfter), pepperOf(stable), "so does the password pepper");
      await assert.rejects(loadOrCreateStableKey(store.sql, oldKey), {
        code: "ERR_SERVICE_SECRET_INTEGRITY",
      });
      assert.equal((await verifyAuditLog(store)).ok, true);
    } finally {
      await store.close();
    }
  });

  it("changes nothing when a feature's row does not open under the old key", async () => {
    const store = await openSqliteStore(mkdtempSync(join(dir, "bad-")), { migrations: FEATURE_MIGRATIONS });
    try {
      const oldKey = new Uint8Array(randomBytes(32));
      await loadOrCreateStableKey(store.sql, oldKey);
      await otpAccounts(
        store,
        () => new Uint8Array(randomBytes(32)),
        () => new Date(),
      ).create("admin:test", {
        name: "sealed-elsewhere",
        issuer: "Keyward",
      });
      await assert.rejects(rotateMasterKey(store, oldKey, new Uint8Array(randomBytes(32)), "admin:test"), {
        code: "ERR_SERVICE_SECRET_INTEGRITY",
      });
      assert.equal((await loadOrCreateStableKey(store.sql, oldKey)).length, 32, "still under the old key");
    } finally {
      await store.close();
    }
  });
});
