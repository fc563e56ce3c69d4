import { appraise, type Policy, parsePolicy, policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { TCB_STATUSES } from "@keyward/attest/evidence";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, errorJson, printJson } from "../output.ts";
import { parseTime, readText } from "../read-input.ts";
import { trustAnchors } from "./quote-verify.ts";
import { readCertificate } from "./ratls-inspect.ts";

/**
 * `keyward ratls verify CERT --collateral FILE [--at ISO-8601] [--policy FILE] [--allow-debug]
 * [--trust-sim] [--json]` — exit statuses as `keyward quote verify`.
 */
export const command: Command = {
  summary:
    "verify an RA-TLS certificate: binding, quote, and policy (debug enclaves refused unless --allow-debug)",
  async run(args) {
    const { values: v, positionals } = parseFlags(args, {
      collateral: { type: "string" },
      at: { type: "string" },
      policy: { type: "string" },
      "allow-debug": { type: "boolean" },
      "trust-sim": { type: "boolean" },
      "sim-root": { type: "string" },
      "data-dir": { type: "string" },
      nonce: { type: "string" },
      json: { type: "boolean" },
    });
    const [path, ...extra] = positionals;
    if (path === undefined || extra.length > 0 || v.collateral === undefined)
      usageError("usage: keyward ratls verify CERT --collateral FILE");
    const cert = readCertificate(path);
    const collateral = parseCollateralJson(readText(v.collateral, "collateral"));
    const at = v.at === undefined ? new Date() : parseTime(v.at);
    const trustSim = v["trust-sim"] === true || v["sim-root"] !== undefined;
    // Without --policy: only what RA-TLS verifiers refuse by default — debug enclaves, and simulated
    // evidence unless its root is trusted — while the TCB status is reported, not judged.
    const base: Policy =
      v.policy === undefined
        ? policyFromObject(
            {
              id: "ratls-default",
              tcbStatuses: [...TCB_STATUSES],
              platforms: trustSim ? ["hardware", "simulated"] : ["hardware"],
            },
            "default",
          )
        : parsePolicy(readText(v.policy, "policy"), v.policy);
    const policy: Policy = v["allow-debug"] === true ? { ...base, allowDebug: true } : base;
    const verifier = createDcapVerifier({ anchors: trustAnchors(trustSim, v["sim-root"], v["data-dir"]) });
    try {
      const r = verifyRaTlsCertificate(cert, {
        verifier,
        collateral,
        at,
        ...(v.nonce === undefined ? {} : { nonce: new Uint8Array(Buffer.from(v.nonce, "hex")) }),
      });
      const appraisal = appraise(r.verified, policy);
      const out = { ...r.verified, format: r.format, validUntil: r.validUntil, appraisal };
      if (v.json === true) printJson(out);
      else
        process.stdout.write(
          `${appraisal.accepted ? "accepted" : "REJECTED"}: ${r.format} evidence, ${r.verified.tee.toUpperCase()} ${r.verified.tcbStatus}${appraisal.accepted ? "" : ` (${appraisal.failed.map((f) => f.rule).join(", ")})`}\n`,
        );
      return appraisal.accepted ? EXIT.ok : EXIT.rejected;
    } catch (e) {
      if (!isKeywardError(e) || e.code === "ERR_IO" || e.code === "ERR_USAGE") throw e;
      if (v.json === true) printJson(errorJson(e));
      else process.stderr.write(`keyward: ${e.code}: ${e.message}\n`);
      return EXIT.rejected;
    }
  },
};
