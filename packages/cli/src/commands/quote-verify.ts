import { join } from "node:path";
import { type Appraisal, appraise, parsePolicy } from "@keyward/attest/appraisal";
import {
  createDcapVerifier,
  intelTrustAnchor,
  parseCollateralJson,
  type TrustAnchor,
} from "@keyward/attest/dcap";
import { KeywardError } from "@keyward/attest/errors";
import { parsePemCertificates } from "@keyward/attest/x509";
import { collateralRequestFor, createCollateralProvider } from "@keyward/channels/collateral";
import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { parseTime, readBytes, readText } from "../read-input.ts";

/**
 * `keyward quote verify QUOTE (--collateral FILE | --pccs URL) [--at ISO-8601] [--trust-sim] [--sim-root FILE]
 * [--policy FILE] [--json]`
 */
export const command: Command = {
  summary: "verify a DCAP quote against its collateral (and a policy)",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      collateral: { type: "string" },
      pccs: { type: "string" },
      at: { type: "string" },
      "trust-sim": { type: "boolean" },
      "sim-root": { type: "string" },
      "data-dir": { type: "string" },
      policy: { type: "string" },
      json: { type: "boolean" },
    });
    const [quotePath, ...extra] = positionals;
    if (quotePath === undefined || extra.length > 0)
      usageError("usage: keyward quote verify QUOTE --collateral FILE");
    if ((values.collateral === undefined) === (values.pccs === undefined)) {
      usageError("one of --collateral FILE or --pccs URL is required");
    }
    const quote = readBytes(quotePath, "quote");
    const collateral =
      values.collateral !== undefined
        ? parseCollateralJson(readText(values.collateral, "collateral"))
        : await createCollateralProvider({ baseUrl: values.pccs ?? "" }).get(collateralRequestFor(quote));
    const at = values.at === undefined ? new Date() : parseTime(values.at);
    const policy =
      values.policy === undefined ? undefined : parsePolicy(readText(values.policy, "policy"), values.policy);
    const anchors = trustAnchors(values["trust-sim"] === true, values["sim-root"], values["data-dir"]);

    const verdict = createDcapVerifier({ anchors }).verify(quote, collateral, at);
    const appraisal: Appraisal | undefined = policy === undefined ? undefined : appraise(verdict, policy);
    const out = { ...verdict, ...(appraisal === undefined ? {} : { appraisal }) };
    if (values.json === true) printJson(out);
    else printSummary(verdict, appraisal);
    if (appraisal !== undefined && !appraisal.accepted) return EXIT.rejected;
    return EXIT.ok;
  },
};

/** Intel's root always; the simulation root only when asked for explicitly. */
export function trustAnchors(
  trustSim: boolean,
  simRoot: string | undefined,
  dir: string | undefined,
): TrustAnchor[] {
  const anchors = [intelTrustAnchor()];
  if (trustSim || simRoot !== undefined) {
    const path = simRoot ?? join(dataDir(dir), "sim", "root.pem");
    const [certificate] = parsePemCertificates(readText(path, "simulation root"), 1);
    if (certificate === undefined) throw new KeywardError("ERR_IO", `${path}: no certificate`);
    anchors.push({ certificate, platform: "simulated" });
  }
  return anchors;
}

function printSummary(
  v: ReturnType<ReturnType<typeof createDcapVerifier>["verify"]>,
  a: Appraisal | undefined,
): void {
  const lines = [
    `verified: ${v.tee.toUpperCase()} quote v${v.quoteVersion} on ${v.platform} platform`,
    `tcb status: ${v.tcbStatus}${v.advisoryIds.length > 0 ? ` (${v.advisoryIds.join(", ")})` : ""}`,
    `valid until: ${v.validUntil.toISOString()}`,
  ];
  if (a !== undefined) {
    lines.push(`policy ${a.policyId}: ${a.accepted ? "accepted" : "REJECTED"}`);
    for (const f of a.failed) lines.push(`  ${f.rule}: expected ${f.expected}, got ${f.actual}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
