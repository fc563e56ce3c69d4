/**
 * `AdminService` on the admin listener: the operator is the verified admin client certificate;
 * mutating calls first pass the second-factor seam (`FeatureContext.stepUp`).
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { AdminService } from "@keyward/proto/keyward/v1";
import type { Call } from "../../kernel/rpc.ts";
import { type RpcService, rpcService } from "../../kernel/rpc.ts";
import type { AdminStepUp } from "../../kernel/step-up.ts";
import type { AdminOperations } from "./operations.ts";

/** The AdminService over `ops`. */
export function adminService(ops: AdminOperations, stepUp: AdminStepUp): RpcService {
  const operator = (call: Call): string => {
    if (call.operator === undefined)
      throw new KeywardError("ERR_ADMIN_UNAUTHENTICATED", "no verified admin client certificate");
    return call.operator;
  };
  const read =
    <Req, Res>(f: (req: Req, subject: string) => Promise<Res> | Res) =>
    async (req: Req, call: Call): Promise<Res> =>
      f(req, operator(call));
  const change =
    <Req, Res>(action: string, f: (req: Req, subject: string) => Promise<Res> | Res) =>
    async (req: Req, call: Call): Promise<Res> => {
      const subject = operator(call);
      await stepUp({ action, subject, headers: call.headers, clientAddress: call.clientAddress });
      return f(req, subject);
    };
  return rpcService("admin", AdminService, {
    putSecret: change("secret.put", (r, s) => ops.putSecret(s, r.name, r.value)),
    deleteSecret: change("secret.delete", (r, s) => ops.deleteSecret(s, r.name)),
    listSecrets: read(async () => ({ secrets: await ops.listSecrets() })),
    createKey: change("key.create", (r, s) => ops.createKey(s, r.keyId, r.algorithm)),
    putPolicy: change("policy.put", (r, s) => ops.putPolicy(s, r.document, r.format)),
    deletePolicy: change("policy.delete", (r, s) => ops.deletePolicy(s, r.id)),
    listPolicies: read(() => ({ policies: ops.listPolicies() })),
    explain: read(async (r) => {
      const subject =
        r.subject.case === "auditSeq"
          ? { auditSeq: Number(r.subject.value) }
          : r.subject.case === "evidence"
            ? { evidence: r.subject.value }
            : undefined;
      if (subject === undefined)
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "give audit_seq or evidence");
      const x = await ops.explain(subject, r.policyId);
      return {
        claimsJson: JSON.stringify(x.claims),
        acceptedPolicyId: x.acceptedPolicyId ?? "",
        appraisals: x.appraisals.map((a) => ({
          policyId: a.policyId,
          accepted: a.accepted,
          rules: a.results.map((r) => ({ ...r })),
        })),
      };
    }),
    readAudit: read(async (r) => ({
      entries: (await ops.readAudit(Number(r.fromSeq), r.limit === 0 ? 1000 : r.limit)).map((e) => ({
        seq: BigInt(e.seq),
        at: e.at,
        action: e.action,
        outcome: e.outcome,
        subject: e.subject,
        policyId: e.policyId ?? "",
        detailJson: e.detail === undefined ? "" : JSON.stringify(e.detail),
        prevHash: e.prevHash,
        hash: e.hash,
      })),
    })),
    verifyAudit: read(async (r) => {
      const v = await ops.verifyAudit(r.expectHead === "" ? {} : { expectHead: r.expectHead });
      return {
        expectedHeadFound: v.expectedHeadFound ?? false,
        ok: v.ok,
        entries: BigInt(v.entries),
        head: v.head,
        brokenAt: BigInt(v.brokenAt ?? 0),
        problem: v.problem ?? "",
      };
    }),
  });
}
