/**
 * The device registry's operations over the store: register or rotate a device's key (accepting a
 * generation only when greater, in one conditional UPDATE), verify readings under the current key,
 * revoke, list.
 *
 * @module
 */
import { toHex } from "@keyward/attest/bytes";
import { p256FromSpki } from "@keyward/attest/crypto";
import { KeywardError } from "@keyward/attest/errors";
import {
  type AttestedKey,
  SIGNATURE_FORMATS,
  type SignatureFormat,
  verifyCoseSign1,
  verifySignature,
} from "@keyward/attest/signer";
import type { AuditEvent } from "../../audit/chain.ts";
import type { Store } from "../../store/contract.ts";
import { appendInTransaction } from "../../store/group-commit.ts";
import type { Row, SqlRunner } from "../../store/sql.ts";

/** A registered device and its current key. */
export interface DeviceRecord {
  readonly device: string;
  readonly keyId: string;
  readonly generation: number;
  readonly purpose: string;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** The enclave that made the key: `sgx:<MRENCLAVE hex>`. */
  readonly subject: string;
  readonly policyId: string;
  readonly registeredAt: string;
  readonly revoked: boolean;
  readonly revokedAt?: string;
}

const DEVICE = /^[A-Za-z0-9._:-]{1,128}$/;
const COLUMNS =
  "device, key_id, generation, purpose, spki, subject, policy_id, registered_at, revoked, revoked_at";

/** Checks a device name. @throws ERR_SIGNER_DEVICE_INVALID */
export function checkDeviceName(device: string): string {
  if (!DEVICE.test(device))
    throw new KeywardError(
      "ERR_SIGNER_DEVICE_INVALID",
      "a device name is 1-128 characters of [A-Za-z0-9._:-]",
    );
  return device;
}

/** Checks a signature format ("" is cose). @throws ERR_SIGNER_DEVICE_INVALID */
export function signatureFormatOf(format: string): SignatureFormat {
  const f = format === "" ? "cose" : format;
  const known = SIGNATURE_FORMATS.find((x) => x === f);
  if (known === undefined)
    throw new KeywardError("ERR_SIGNER_DEVICE_INVALID", `signature format "${format}": cose, der or raw`);
  return known;
}

// Row mapper: signer_devices columns (COLUMNS) → DeviceRecord; bytes come back as Uint8Array on
// both engines, integers as number or bigint.
function recordOf(r: Row): DeviceRecord {
  return {
    device: String(r.device),
    keyId: String(r.key_id),
    generation: Number(r.generation),
    purpose: String(r.purpose),
    spki: new Uint8Array(r.spki as Uint8Array),
    subject: String(r.subject),
    policyId: String(r.policy_id),
    registeredAt: String(r.registered_at),
    revoked: Number(r.revoked) === 1,
    ...(r.revoked_at === null || r.revoked_at === undefined ? {} : { revokedAt: String(r.revoked_at) }),
  };
}

/** The registry over `store`. */
export function deviceRegistry(store: Store, now: () => Date) {
  const sql = store.sql;
  const get = async (tx: SqlRunner, device: string) => {
    const r = await tx.get(`SELECT ${COLUMNS} FROM signer_devices WHERE device = ?`, [device]);
    return r === undefined ? undefined : recordOf(r);
  };
  return {
    /**
     * Registers `device` with `key` (first registration), or rotates to it (a greater generation
     * of the same purpose). Re-registering the current key is accepted unchanged.
     * @throws ERR_SIGNER_DEVICE_REVOKED, ERR_SIGNER_PURPOSE_MISMATCH, ERR_SIGNER_BUNDLE_REPLAYED
     */
    async register(
      device: string,
      key: AttestedKey,
      subject: string,
      policyId: string,
    ): Promise<DeviceRecord> {
      const keyId = toHex(key.keyId);
      const spki = new Uint8Array(key.key.export({ format: "der", type: "spki" }));
      const at = now().toISOString();
      return sql.transaction(async (tx) => {
        const current = await get(tx, device);
        if (current === undefined) {
          await tx.run(
            "INSERT INTO signer_devices (device, key_id, generation, purpose, spki, subject, policy_id, registered_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            [device, keyId, key.generation, key.purpose, spki, subject, policyId, at],
          );
          return (await get(tx, device)) as DeviceRecord;
        }
        if (current.revoked)
          throw new KeywardError("ERR_SIGNER_DEVICE_REVOKED", `device ${device} was revoked`);
        if (current.purpose !== key.purpose)
          throw new KeywardError(
            "ERR_SIGNER_PURPOSE_MISMATCH",
            `device ${device} registered keys for "${current.purpose}", not "${key.purpose}"`,
          );
        if (current.keyId === keyId && current.generation === key.generation) return current;
        // Accept only a greater generation, atomically (another replica may rotate at the same time).
        const updated = await tx.get(
          "UPDATE signer_devices SET key_id = ?, generation = ?, spki = ?, subject = ?, policy_id = ?, registered_at = ? WHERE device = ? AND generation < ? AND revoked = 0 RETURNING device",
          [keyId, key.generation, spki, subject, policyId, at, device, key.generation],
        );
        if (updated === undefined)
          throw new KeywardError(
            "ERR_SIGNER_BUNDLE_REPLAYED",
            `device ${device} has generation ${current.generation}; a bundle of generation ${key.generation} is not newer`,
            { detail: { device, registered: current.generation, presented: key.generation } },
          );
        return (await get(tx, device)) as DeviceRecord;
      });
    },

    /**
     * Verifies `signature` over `data` (for COSE, `data` may be empty: the payload is returned)
     * under the device's current key.
     * @throws ERR_SIGNER_DEVICE_NOT_FOUND, ERR_SIGNER_DEVICE_REVOKED, ERR_SIGNER_SIGNATURE_MALFORMED,
     * ERR_SIGNER_KEY_MISMATCH, ERR_SIGNER_SIGNATURE_INVALID
     */
    async verify(
      device: string,
      data: Uint8Array,
      signature: Uint8Array,
      format: SignatureFormat,
    ): Promise<{ record: DeviceRecord; payload: Uint8Array }> {
      const record = await get(sql, device);
      if (record === undefined)
        throw new KeywardError("ERR_SIGNER_DEVICE_NOT_FOUND", `no device ${device} is registered`);
      if (record.revoked) throw new KeywardError("ERR_SIGNER_DEVICE_REVOKED", `device ${device} was revoked`);
      const key = p256FromSpki(record.spki);
      const keyId = Buffer.from(record.keyId, "hex");
      if (format === "cose")
        return {
          record,
          payload: verifyCoseSign1(signature, key, keyId, data.byteLength === 0 ? undefined : data),
        };
      verifySignature(format, key, keyId, data, signature);
      return { record, payload: data };
    },

    /** Revokes `device` (final), audited in the same transaction. @throws ERR_SIGNER_DEVICE_NOT_FOUND */
    async revoke(device: string, operator: string, reason: string): Promise<DeviceRecord> {
      const at = now().toISOString();
      return sql.transaction(async (tx) => {
        const n = await tx.run(
          "UPDATE signer_devices SET revoked = 1, revoked_at = ?, revoked_by = ? WHERE device = ? AND revoked = 0",
          [at, operator, device],
        );
        const current = await get(tx, device);
        if (current === undefined)
          throw new KeywardError("ERR_SIGNER_DEVICE_NOT_FOUND", `no device ${device} is registered`);
        const event: AuditEvent = {
          action: "signer.revoke",
          outcome: "ok",
          subject: operator,
          detail: { device, keyId: current.keyId, generation: current.generation, reason, changed: n > 0 },
        };
        await appendInTransaction(tx, [{ event, at }]);
        return current;
      });
    },

    /** Every device, by name. */
    async list(): Promise<DeviceRecord[]> {
      return (await sql.all(`SELECT ${COLUMNS} FROM signer_devices ORDER BY device`)).map(recordOf);
    },
  };
}

/** The registry's operations. */
export type DeviceRegistry = ReturnType<typeof deviceRegistry>;
