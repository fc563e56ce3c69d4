import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appraise, policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, intelTrustAnchor, parseCollateralJson } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { parsePemCertificates } from "@keyward/attest/x509";
import { readFileBounded, readTextBounded } from "@keyward/platform/io";
import { openBundledDirectory } from "@keyward/platform/runtime";
import { initSimPlatform } from "@keyward/platform/sim";
import { usageError } from "../args.ts";
import { EXIT, type ExitCode, printJson } from "../output.ts";
import { demo } from "../specs/misc.ts";
import type { Parsed } from "../specs/types.ts";

// The real quotes bundled with the repository (see their MANIFEST for sources and licences);
// a single executable carries a copy.
const vectorsUrl = new URL("../../../attest/test/vectors/dcap/", import.meta.url);
const VECTOR_DOC = { kind: "document", what: "vector expectations" } as const;

/** `keyward demo [--json]`: the main job on embedded defaults, with no external service. */
export async function run({ json, positionals }: Parsed<typeof demo>): Promise<ExitCode> {
  let failures = 0;
  // With --json the narrative is collected: { ok, failures, steps: [{ text } | { ok, text }] }.
  const steps: ({ text: string } | { ok: boolean; text: string })[] = [];
  const say = (line: string) => {
    if (json) steps.push({ text: line.trim() });
    else process.stdout.write(`${line}\n`);
  };
  const check = (ok: boolean, line: string) => {
    if (!ok) failures++;
    if (json) steps.push({ ok, text: line.trim() });
    else process.stdout.write(`${ok ? "  ok  " : "  FAIL"} ${line}\n`);
  };

  const finish = (): ExitCode => {
    say(
      failures === 0
        ? "\nall verdicts as expected"
        : `\n${failures} verdict(s) differ from what was expected`,
    );
    if (json) printJson({ ok: failures === 0, failures, steps: steps.filter((t) => t.text !== "") });
    return failures === 0 ? EXIT.ok : EXIT.rejected;
  };
  if (positionals[0] !== undefined) {
    if (positionals[0] === "licensing") {
      const { licensingDemo } = await import("../demo-licensing.ts");
      await licensingDemo(say, check);
      return finish();
    }
    if (positionals[0] !== "signing")
      usageError(`no demo scenario "${positionals[0]}": signing, licensing`, demo);
    const { signingDemo } = await import("../demo-signing.ts");
    await signingDemo(say, check);
    return finish();
  }

  say("Real Intel quotes with Intel-signed collateral, verified at the time their collateral was valid:");
  const intel = createDcapVerifier();
  const vectors = openBundledDirectory("dcap-vectors", vectorsUrl);
  try {
    const names = readdirSync(vectors.path, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    for (const name of names) {
      const dir = join(vectors.path, name);
      const expected = JSON.parse(readTextBounded(join(dir, "expected.json"), VECTOR_DOC));
      const want = expected.expected_intel_qvl_semantics;
      const at = new Date(expected.verify_at);
      try {
        const v = intel.verify(
          readFileBounded(join(dir, "quote.bin"), { kind: "evidence", what: "bundled quote" }),
          parseCollateralJson(
            readTextBounded(join(dir, "collateral.json"), { kind: "collateral", what: "bundled collateral" }),
          ),
          at,
        );
        const advisories = v.advisoryIds.length === 0 ? "" : ` [${v.advisoryIds.join(", ")}]`;
        check(
          v.tcbStatus === want.status,
          `${name.padEnd(22)} ${v.tee.toUpperCase()} v${v.quoteVersion}  ${v.tcbStatus}${advisories}`,
        );
      } catch (e) {
        const code = isKeywardError(e) ? e.code : String(e);
        check(
          want.status === undefined,
          `${name.padEnd(22)} rejected: ${code} (expected: ${want.result ?? want.status})`,
        );
      }
    }
  } finally {
    vectors.close();
  }

  say("\nA simulated platform, created now in a temporary directory:");
  const home = mkdtempSync(join(tmpdir(), "keyward-demo-"));
  try {
    const now = new Date();
    const sim = initSimPlatform(join(home, "sim"), { now });
    const [simRoot] = parsePemCertificates(sim.rootCertificatePem, 1);
    if (simRoot === undefined) throw new Error("no simulation root");
    const trusting = createDcapVerifier({
      anchors: [intelTrustAnchor(), { certificate: simRoot, platform: "simulated" }],
    });
    const reportData = new Uint8Array(64).fill(0x42);
    const quotes = [
      {
        tee: "sgx" as const,
        quote: sim.quoteSgx({
          mrEnclave: new Uint8Array(32).fill(1),
          mrSigner: new Uint8Array(32).fill(2),
          isvProdId: 1,
          isvSvn: 1,
          reportData,
        }),
      },
      { tee: "tdx" as const, quote: sim.quoteTdx({ mrTd: new Uint8Array(48).fill(3), reportData }) },
    ];
    for (const { tee, quote } of quotes) {
      const collateral = parseCollateralJson(sim.collateralJson(tee));
      const v = trusting.verify(quote, collateral, now);
      check(
        v.platform === "simulated" && v.tcbStatus === "UpToDate",
        `${tee.toUpperCase()} v${v.quoteVersion} with the simulation root trusted: ${v.tcbStatus}, platform ${v.platform}`,
      );
      const denied = appraise(v, policyFromObject({ id: "default" }, "demo"));
      check(
        !denied.accepted && denied.failed.some((f) => f.rule === "platform"),
        `${tee.toUpperCase()} under the default policy: rejected (${denied.failed.map((f) => f.rule).join(", ")})`,
      );
      let code = "accepted";
      try {
        intel.verify(quote, collateral, now);
      } catch (e) {
        code = isKeywardError(e) ? e.code : String(e);
      }
      check(
        code === "ERR_X509_UNTRUSTED_ROOT",
        `${tee.toUpperCase()} with only Intel's root trusted: ${code}`,
      );
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const { secretProvisioningDemo } = await import("../demo-service.ts");
  await secretProvisioningDemo(say, check);
  return finish();
}
