/**
 * Where an `keyward admin …` command acts: a running service's Admin listener (`--admin HOST:PORT`
 * or KEYWARD_ADMIN_ADDR, over mutual TLS with the operator's certificate from `keyward admin init`),
 * or, without it, the store named by the service flags directly (a stopped service, or bootstrap).
 * Both offer the same operations, so each command is written once.
 *
 * @module
 */
import type { Appraisal } from "@keyward/attest/appraisal";
import type { AuditEntry, ChainVerdict, ExplainSubject } from "@keyward/server/admin";
import { usageError } from "./args.ts";
import { adminAddressFromEnv, dataDir } from "./config.ts";
import { serviceConfigFrom } from "./service-flags.ts";
import type { ADMIN } from "./specs/common.ts";

export interface PolicyListing {
  readonly id: string;
  readonly source: string;
  readonly version: number;
  readonly document: string;
}

export interface ExplainResult {
  readonly claims: unknown;
  readonly appraisals: readonly Pick<Appraisal, "policyId" | "accepted" | "results">[];
  readonly acceptedPolicyId?: string;
}

/** The operations, wherever they run. */
export interface AdminTarget {
  readonly where: string;
  putSecret(name: string, value: Uint8Array): Promise<{ version: number }>;
  deleteSecret(name: string): Promise<{ existed: boolean }>;
  listSecrets(): Promise<readonly { name: string; version: number }[]>;
  createKey(keyId: string, algorithm: string): Promise<{ version: number }>;
  putPolicy(document: string, format: string): Promise<{ id: string; version: number }>;
  deletePolicy(id: string): Promise<{ existed: boolean }>;
  listPolicies(): Promise<readonly PolicyListing[]>;
  explain(subject: ExplainSubject, policyId: string): Promise<ExplainResult>;
  readAudit(fromSeq: number, limit: number): Promise<readonly AuditEntry[]>;
  /**
   * The whole chain, streamed to the log's head (constant memory). `expectHead`: a head recorded
   * earlier that must be in the chain. `onProgress` (local only) hears entries checked so far.
   */
  verifyAudit(options?: {
    readonly expectHead?: string;
    readonly onProgress?: (checked: number, total: number) => void;
  }): Promise<ChainVerdict & { readonly expectedHeadFound?: boolean }>;
  close(): Promise<void>;
}

/** The values of the {@link ADMIN} flags (a command's values may hold more). */
export type AdminValues = { readonly [K in keyof typeof ADMIN]?: string | boolean | undefined };

/** The target the flags name. */
export async function openAdminTarget(values: AdminValues): Promise<AdminTarget> {
  const address = (values.admin as string | undefined) ?? adminAddressFromEnv();
  return address === undefined ? local(values) : remote(values, address);
}

async function remote(values: AdminValues, address: string): Promise<AdminTarget> {
  const m = /^(.*):(\d{1,5})$/.exec(address);
  if (m === null) usageError(`--admin/KEYWARD_ADMIN_ADDR must be HOST:PORT, got "${address}"`);
  const { connectAdmin, fromConnectError, loadAdminClientCredentials } = await import(
    "@keyward/server/admin"
  );
  const credentials = loadAdminClientCredentials(
    dataDir(values["data-dir"] as string | undefined),
    (values["admin-client"] as string | undefined) ?? "admin",
  );
  const c = connectAdmin(credentials, { host: (m[1] ?? "").replace(/^\[|\]$/g, ""), port: Number(m[2]) });
  // Failures carry the service's Keyward code back, so exit codes match the local form.
  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw fromConnectError(e);
    }
  };
  return {
    where: `admin listener ${address}`,
    putSecret: (name, value) => call(async () => ({ version: (await c.putSecret({ name, value })).version })),
    deleteSecret: (name) => call(async () => ({ existed: (await c.deleteSecret({ name })).existed })),
    listSecrets: () =>
      call(async () => (await c.listSecrets({})).secrets.map(({ name, version }) => ({ name, version }))),
    createKey: (keyId, algorithm) =>
      call(async () => ({ version: (await c.createKey({ keyId, algorithm })).version })),
    putPolicy: (document, format) =>
      call(async () => {
        const { id, version } = await c.putPolicy({ document, format });
        return { id, version };
      }),
    deletePolicy: (id) => call(async () => ({ existed: (await c.deletePolicy({ id })).existed })),
    listPolicies: () =>
      call(async () =>
        (await c.listPolicies({})).policies.map(({ id, source, version, document }) => ({
          id,
          source,
          version,
          document,
        })),
      ),
    explain: (subject, policyId) =>
      call(async () => {
        const r = await c.explain({
          subject:
            "auditSeq" in subject
              ? { case: "auditSeq", value: BigInt(subject.auditSeq) }
              : { case: "evidence", value: subject.evidence },
          policyId,
        });
        return {
          claims: JSON.parse(r.claimsJson),
          appraisals: r.appraisals.map((a) => ({
            policyId: a.policyId,
            accepted: a.accepted,
            results: a.rules.map(({ rule, passed, expected, actual }) => ({
              rule,
              passed,
              expected,
              actual,
            })),
          })),
          ...(r.acceptedPolicyId === "" ? {} : { acceptedPolicyId: r.acceptedPolicyId }),
        };
      }),
    readAudit: (fromSeq, limit) =>
      call(async () =>
        (await c.readAudit({ fromSeq: BigInt(fromSeq), limit })).entries.map((e) => ({
          seq: Number(e.seq),
          at: e.at,
          action: e.action,
          outcome: e.outcome as AuditEntry["outcome"],
          subject: e.subject,
          ...(e.policyId === "" ? {} : { policyId: e.policyId }),
          ...(e.detailJson === "" ? {} : { detail: JSON.parse(e.detailJson) }),
          prevHash: e.prevHash,
          hash: e.hash,
        })),
      ),
    verifyAudit: (options = {}) =>
      call(async () => {
        const v = await c.verifyAudit({ expectHead: options.expectHead ?? "" });
        return {
          ...(options.expectHead === undefined ? {} : { expectedHeadFound: v.expectedHeadFound }),
          ok: v.ok,
          entries: Number(v.entries),
          head: v.head,
          ...(v.ok ? {} : { brokenAt: Number(v.brokenAt), problem: v.problem }),
        };
      }),
    close: async () => undefined,
  };
}

async function local(values: AdminValues): Promise<AdminTarget> {
  const { openLocalAdmin } = await import("@keyward/server/admin");
  const { ops, store, close } = await openLocalAdmin(await serviceConfigFrom(values));
  const subject = "admin:local-cli";
  return {
    where: `local store (${store.engine})`,
    putSecret: (name, value) => ops.putSecret(subject, name, value),
    deleteSecret: (name) => ops.deleteSecret(subject, name),
    listSecrets: () => ops.listSecrets(),
    createKey: (keyId, algorithm) => ops.createKey(subject, keyId, algorithm),
    putPolicy: (document, format) => ops.putPolicy(subject, document, format),
    deletePolicy: (id) => ops.deletePolicy(subject, id),
    listPolicies: async () => ops.listPolicies(),
    explain: (s, policyId) => ops.explain(s, policyId),
    readAudit: (fromSeq, limit) => ops.readAudit(fromSeq, limit),
    verifyAudit: (options) => ops.verifyAudit(options),
    close,
  };
}
