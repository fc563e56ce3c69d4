import { join } from "node:path";
import { toHex } from "@keyward/attest/bytes";
import { parsePemCertificates } from "@keyward/attest/x509";
import { initSimPlatform } from "@keyward/platform/sim";
import { dataDir } from "../config.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { progress } from "../progress.ts";
import type { simInit } from "../specs/sim.ts";
import type { Parsed } from "../specs/types.ts";
import { validityDays } from "./sim-refresh.ts";

const STEPS = {
  keys: "generating the CA, PCK, TCB-signing and attestation keys",
  certificates: "issuing the certificates",
  collateral: "signing TCB Info, QE Identity and CRLs",
} as const;

/** `keyward sim init [--data-dir DIR] [--force] [--validity-days N] [--json]` */
export async function run({ values, json }: Parsed<typeof simInit>): Promise<ExitCode> {
  const days = validityDays(values["validity-days"]) ?? 30;
  const dir = join(dataDir(values["data-dir"]), "sim");
  const shown = progress("creating the simulated platform");
  let sim: ReturnType<typeof initSimPlatform>;
  try {
    sim = initSimPlatform(dir, {
      now: new Date(),
      validityDays: days,
      force: values.force === true,
      onStep: (step) => shown.step(STEPS[step]),
    });
  } finally {
    shown.done();
  }
  const [root] = parsePemCertificates(sim.rootCertificatePem, 1);
  const out = {
    dir,
    root: join(dir, "root.pem"),
    rootSha256: root === undefined ? "" : toHex(root.fingerprint256),
    collateral: { sgx: join(dir, "collateral-sgx.json"), tdx: join(dir, "collateral-tdx.json") },
    validityDays: days,
    note: "SIMULATED platform: for development only; verifiers accept it only with --trust-sim",
  };
  if (json) printJson(out);
  else
    say(
      `simulated platform created in ${dir}\n  root CA: ${out.root}\n  sha256:  ${out.rootSha256}\n` +
        `  collateral valid for ${days} days (keyward sim refresh renews it)\n  ${out.note}`,
    );
  return EXIT.ok;
}
