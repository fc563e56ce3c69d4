/**
 * Administration: secrets, keys, policies, explanations and the audit log. `adminOperations` is
 * the logic, used by the Admin gRPC service (service.ts, on the admin listener) and by the CLI
 * when it works on a local store. Every change is audited in the transaction that makes it.
 *
 * @module
 */
import { type Appraisal, appraise } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import {
  type ClaimsRecord,
  claimsRecord,
  type VerifiedQuote,
  verifiedFromRecord,
} from "@keyward/attest/evidence";
import { pemBlocks } from "@keyward/attest/x509";
import type { VerifyCertificate } from "@keyward/channels/tls";
import type { AuditEntry } from "../../audit/chain.ts";
import { type AuditLogVerdict, verifyAuditLog } from "../../audit/stream.ts";
import { sealSecret } from "../../kernel/envelope.ts";
import { policyJson } from "../../kernel/grants.ts";
import { createOrRotateKey, KEY_ALGORITHMS, type KeyAlgorithm } from "../../kernel/keys.ts";
import { checkSecretName, LIMITS } from "../../kernel/limits.ts";
import { sealPolicyDocument } from "../../kernel/policy-sealing.ts";
import type { PolicySet } from "../../kernel/policy-set.ts";
import { parsePolicyText } from "../../kernel/policy-text.ts";
import type { Store } from "../../store/contract.ts";

export interface AdminDeps {
  readonly store: Store;
  /** The master key, asked for only by the operations that seal (put-secret, create-key). */
  readonly masterKey: () => Uint8Array;
  readonly policies: PolicySet;
  /** Verifies an RA-TLS certificate's evidence (Explain with evidence). */
  readonly verifyCertificate?: VerifyCertificate;
  /** Verifies a bare DCAP quote (Explain with evidence). */
  readonly verifyQuote?: (quote: Uint8Array, at: Date) => VerifiedQuote | Promise<VerifiedQuote>;
  readonly now?: () => Date;
}

/** What Explain reports. */
export interface Explanation {
  readonly claims: ClaimsRecord;
  readonly appraisals: readonly Appraisal[];
  /** The policy the service would pick: the first in force that accepts. */
  readonly acceptedPolicyId?: string;
}

export type ExplainSubject = { readonly auditSeq: number } | { readonly evidence: Uint8Array };

const MAX_VALUE = LIMITS.maxSecretBytes;
const MAX_POLICY = LIMITS.maxPolicyBytes;

/** The administrative operations on a store and policy set. `subject` names the operator. */
export function adminOperations(deps: AdminDeps) {
  const { store, masterKey, policies } = deps;
  const now = deps.now ?? (() => new Date());

  async function claimsOf(subject: ExplainSubject): Promise<VerifiedQuote> {
    if ("auditSeq" in subject) return replayed(subject.auditSeq);
    const bytes = subject.evidence;
    if (bytes.byteLength === 0 || bytes.byteLength > MAX_VALUE)
      throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "evidence is empty or larger than 1 MiB");
    const pem = Buffer.from(bytes.subarray(0, 11)).toString("latin1") === "-----BEGIN ";
    if (pem || bytes[0] === 0x30) {
      // An RA-TLS certificate, PEM (strictly decoded) or DER.
      if (deps.verifyCertificate === undefined)
        throw new KeywardError("ERR_SERVICE_CONFIG", "this service cannot verify RA-TLS certificates");
      const der = pem
        ? (pemBlocks(Buffer.from(bytes).toString("latin1"), "CERTIFICATE", 1)[0] ?? bytes)
        : bytes;
      return (await deps.verifyCertificate(der, now())).verified;
    }
    if (deps.verifyQuote === undefined)
      throw new KeywardError("ERR_SERVICE_CONFIG", "this service cannot verify quotes");
    return deps.verifyQuote(bytes, now());
  }

  async function replayed(seq: number): Promise<VerifiedQuote> {
    const [entry] = await store.readAudit(seq, 1);
    if (entry === undefined || entry.seq !== seq)
      throw new KeywardError("ERR_SERVICE_NOT_FOUND", `no audit entry ${seq}`);
    // Entries reference their claims record by hash; entries written before that embed it.
    const claims = entry.claims ?? entry.detail?.claims;
    if (claims === undefined)
      throw new KeywardError(
        "ERR_SERVICE_REQUEST_INVALID",
        `audit entry ${seq} (${entry.action}) records no attestation decision`,
      );
    return verifiedFromRecord(claims);
  }

  return {
    async putSecret(subject: string, name: string, value: Uint8Array): Promise<{ version: number }> {
      checkSecretName(name);
      if (value.byteLength > MAX_VALUE)
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "a secret value is at most 1 MiB");
      const s = await store.putSecret(name, (v) => sealSecret(masterKey(), name, v, value), {
        action: "secret.put",
        outcome: "ok",
        subject,
      });
      return { version: s.version };
    },

    async deleteSecret(subject: string, name: string): Promise<{ existed: boolean }> {
      checkSecretName(name);
      return { existed: await store.deleteSecret(name, { action: "secret.delete", outcome: "ok", subject }) };
    },

    async listSecrets(): Promise<{ name: string; version: number }[]> {
      // The newest live version of each name (deleted names have none).
      const names = new Set((await store.listSecretVersions()).map((s) => s.name));
      const out: { name: string; version: number }[] = [];
      for (const name of names) {
        const newest = await store.getSecret(name);
        if (newest !== undefined) out.push({ name, version: newest.version });
      }
      return out;
    },

    async createKey(subject: string, keyId: string, algorithm: string): Promise<{ version: number }> {
      if (!(KEY_ALGORITHMS as readonly string[]).includes(algorithm))
        throw new KeywardError(
          "ERR_SERVICE_REQUEST_INVALID",
          `algorithm must be one of ${KEY_ALGORITHMS.join(", ")}`,
        );
      const k = await createOrRotateKey(store, masterKey(), keyId, algorithm as KeyAlgorithm, subject);
      return { version: k.version };
    },

    async putPolicy(
      subject: string,
      document: string,
      format = "",
    ): Promise<{ id: string; version: number }> {
      if (document.length > MAX_POLICY)
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "a policy document is at most 64 KiB");
      const yaml = format === "yaml" || (format === "" && !/^\s*\{/.test(document));
      if (format !== "" && format !== "json" && format !== "yaml")
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", 'format is "json", "yaml" or empty');
      // Strict: duplicate keys, unknown tags and values YAML would retype are refused with their
      // line and column; no parser message (which would quote a line, maybe a token) is kept.
      const value = parsePolicyText(document, yaml ? "yaml" : "json", "request");
      const policy = policies.reader.policy(value, "request"); // names every problem with its path
      const file = policies.entries().find((e) => e.policy.id === policy.id && e.source !== "store");
      if (file !== undefined)
        throw new KeywardError(
          "ERR_SERVICE_POLICY_CONFLICT",
          `policy "${policy.id}" is defined by ${file.source}; edit that file or use another id`,
        );
      const json = JSON.stringify(value);
      const stored = await store.putPolicy(
        policy.id,
        (v) => sealPolicyDocument(masterKey(), policy.id, v, json),
        {
          action: "policy.put",
          outcome: "ok",
          subject,
        },
      );
      await policies.refresh();
      return { id: stored.id, version: stored.version };
    },

    async deletePolicy(subject: string, id: string): Promise<{ existed: boolean }> {
      const existed = await store.deletePolicy(id, { action: "policy.delete", outcome: "ok", subject });
      await policies.refresh();
      return { existed };
    },

    listPolicies(): { id: string; source: string; version: number; document: string }[] {
      return policies.entries().map((e) => ({
        id: e.policy.id,
        source: e.source,
        version: e.version,
        document: policyJson(e.policy, policies.reader.kinds),
      }));
    },

    async explain(subject: ExplainSubject, policyId = ""): Promise<Explanation> {
      const verified = await claimsOf(subject);
      const inForce = policies.current();
      const chosen = policyId === "" ? inForce : inForce.filter((p) => p.id === policyId);
      if (chosen.length === 0)
        throw new KeywardError("ERR_SERVICE_NOT_FOUND", `no policy "${policyId}" is in force`);
      const appraisals = chosen.map((p) => appraise(verified, p));
      const accepted = appraisals.find((a) => a.accepted);
      return {
        claims: claimsRecord(verified),
        appraisals,
        ...(accepted === undefined ? {} : { acceptedPolicyId: accepted.policyId }),
      };
    },

    readAudit(fromSeq = 1, limit = 1000): Promise<readonly AuditEntry[]> {
      return store.readAudit(Math.max(1, fromSeq), Math.min(Math.max(1, limit), 10_000));
    },

    /** The whole chain, streamed to the log's head ({@link verifyAuditLog}). */
    verifyAudit(
      options: {
        readonly expectHead?: string;
        readonly onProgress?: (checked: number, total: number) => void;
      } = {},
    ): Promise<AuditLogVerdict> {
      return verifyAuditLog(store, options);
    },
  };
}

/** The operations of {@link adminOperations}. */
export type AdminOperations = ReturnType<typeof adminOperations>;
