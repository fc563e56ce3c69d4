/**
 * Stored policies are envelope-encrypted like secrets, because they carry credentials (a Vault
 * `app_token`) and the database alone must reveal nothing: a fresh data key per policy version
 * (AES-256-GCM), wrapped by the master key, AAD = "policy" ‖ 0x00 ‖ id ‖ 0x00 ‖ version, so a
 * document moved to another policy or version does not open. The column keeps text:
 * `keyward-sealed-policy-v1:` base64(wrapped key) `.` base64(ciphertext).
 *
 * A database written before this (plaintext JSON documents) is sealed at start, every version and
 * deleted ones included (`sealStoredPolicies`), in one audited transaction. From then on a
 * document that is not sealed is refused: a row written by someone who can write the database
 * but lacks the master key is no policy.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { Store, StoredPolicy } from "../store/contract.ts";
import { gcmOpen, gcmSeal } from "./envelope.ts";

const PREFIX = "keyward-sealed-policy-v1:";

const aadOf = (id: string, version: number) => new TextEncoder().encode(`policy\u0000${id}\u0000${version}`);

/** True when `stored` is a sealed document (not necessarily one that opens). */
export function isSealedPolicyDocument(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** Seals policy `id`'s version `version` document under a fresh data key wrapped by `masterKey`. */
export function sealPolicyDocument(
  masterKey: Uint8Array,
  id: string,
  version: number,
  document: string,
): string {
  const aad = aadOf(id, version);
  const dataKey = randomBytes(32);
  try {
    const wrapped = gcmSeal(masterKey, dataKey, aad);
    const ciphertext = gcmSeal(dataKey, new TextEncoder().encode(document), aad);
    return `${PREFIX}${Buffer.from(wrapped).toString("base64")}.${Buffer.from(ciphertext).toString("base64")}`;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The document of a stored policy row.
 * @throws ERR_SERVICE_SECRET_INTEGRITY when it is not sealed, or does not open under `masterKey`
 *   for this id and version
 */
export function openPolicyDocument(
  masterKey: Uint8Array,
  row: Pick<StoredPolicy, "id" | "version" | "document">,
): string {
  if (!isSealedPolicyDocument(row.document))
    throw new KeywardError(
      "ERR_SERVICE_SECRET_INTEGRITY",
      `stored policy ${row.id} v${row.version} is not sealed (written without the master key)`,
    );
  const [wrapped, ciphertext] = row.document.slice(PREFIX.length).split(".");
  if (wrapped === undefined || ciphertext === undefined)
    throw new KeywardError(
      "ERR_SERVICE_SECRET_INTEGRITY",
      `stored policy ${row.id} v${row.version} is malformed`,
    );
  const aad = aadOf(row.id, row.version);
  const dataKey = gcmOpen(masterKey, Buffer.from(wrapped, "base64"), aad);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(
      gcmOpen(dataKey, Buffer.from(ciphertext, "base64"), aad),
    );
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Seals every policy version still stored in plaintext (a database from before sealing), in one
 * audited transaction (`policy.seal`). Resolves with how many rows it sealed.
 */
export async function sealStoredPolicies(
  store: Store,
  masterKey: Uint8Array,
  subject = "service:start",
): Promise<number> {
  const plain = (await store.listPolicyVersions()).filter((r) => !isSealedPolicyDocument(r.document));
  if (plain.length === 0) return 0;
  return store.replacePolicyDocuments(
    plain.map((r) => ({
      id: r.id,
      version: r.version,
      from: r.document,
      to: sealPolicyDocument(masterKey, r.id, r.version, r.document),
    })),
    { action: "policy.seal", outcome: "ok", subject },
  );
}

/**
 * Every policy version re-sealed under `newKey` (master-key rotation).
 * @throws ERR_SERVICE_SECRET_INTEGRITY when a row does not open under `oldKey`
 */
export async function resealPolicies(
  store: Store,
  oldKey: Uint8Array,
  newKey: Uint8Array,
): Promise<StoredPolicy[]> {
  return (await store.listPolicyVersions()).map((r) => ({
    ...r,
    // A row still in plaintext (never seen by a service since sealing came) is sealed here too.
    document: sealPolicyDocument(
      newKey,
      r.id,
      r.version,
      isSealedPolicyDocument(r.document) ? openPolicyDocument(oldKey, r) : r.document,
    ),
  }));
}
