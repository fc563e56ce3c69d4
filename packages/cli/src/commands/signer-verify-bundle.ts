import { toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, reportRejection, say } from "../output.ts";
import { checkBundle, readBundle } from "../signer-trust.ts";
import { signerVerifyBundle } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward signer verify-bundle BUNDLE --policy FILE [--collateral FILE | --pccs URL]
 * [--trust-sim | --sim-root FILE] [--at ISO-8601] [--json]` — exit 0 accepted, 1 rejected.
 */
export async function run({
  values,
  positionals,
  json,
}: Parsed<typeof signerVerifyBundle>): Promise<ExitCode> {
  required(values.policy, "policy", signerVerifyBundle);
  const bundle = readBundle(positionals[0] as string);
  const { attested, appraisal } = await checkBundle(bundle, values);
  const c = attested.verified.claims;
  const result = {
    keyId: toHex(attested.keyId),
    purpose: attested.purpose,
    generation: attested.generation,
    tee: attested.verified.tee,
    platform: attested.verified.platform,
    tcbStatus: attested.verified.tcbStatus,
    ...(c.tee === "sgx"
      ? {
          mrEnclave: toHex(c.mrEnclave),
          mrSigner: toHex(c.mrSigner),
          isvProdId: c.isvProdId,
          isvSvn: c.isvSvn,
        }
      : { mrTd: toHex(c.mrTd) }),
    debug: c.debug,
    appraisal,
  };
  // Reference values from the trusted source: a reproducible build (the manifest) or its SIGSTRUCT.
  const references: { from: string; mrEnclave: Uint8Array; mrSigner: Uint8Array; isvProdId: number }[] = [];
  if (values["reference-manifest"] !== undefined) {
    const { loadManifest, measure } = await import("@keyward/platform/launcher");
    references.push({
      from: values["reference-manifest"],
      ...measure(loadManifest(values["reference-manifest"])),
    });
  }
  if (values.sigstruct !== undefined) {
    const { parseSigstruct, verifySigstruct } = await import("@keyward/platform/sigstruct");
    const s = parseSigstruct(readFileBounded(values.sigstruct, { kind: "evidence", what: "SIGSTRUCT" }));
    verifySigstruct(s);
    references.push({ from: values.sigstruct, ...s });
  }
  for (const ref of references) {
    const mismatched =
      c.tee !== "sgx"
        ? ["tee"]
        : [
            toHex(c.mrEnclave) !== toHex(ref.mrEnclave) ? "mrEnclave" : "",
            toHex(c.mrSigner) !== toHex(ref.mrSigner) ? "mrSigner" : "",
            c.isvProdId !== ref.isvProdId ? "isvProdId" : "",
          ].filter((f) => f !== "");
    if (mismatched.length > 0)
      return reportRejection(
        new KeywardError(
          "ERR_MEASUREMENT_MISMATCH",
          `the key's enclave was not built from ${ref.from}: ${mismatched.join(", ")} differ`,
        ),
        json,
        { ...result, mismatched },
      );
  }
  if (!appraisal.accepted) {
    const failed = appraisal.failed
      .map((f) => `${f.rule} (expected ${f.expected}, got ${f.actual})`)
      .join("; ");
    return reportRejection(
      new KeywardError(
        "ERR_POLICY_REJECTED",
        `policy ${appraisal.policyId} refuses the key's enclave: ${failed}`,
      ),
      json,
      result,
    );
  }
  if (json) printJson(result);
  else
    say(
      `accepted: key ${result.keyId} (${result.purpose}, generation ${result.generation}) is bound to an enclave policy ${appraisal.policyId} accepts`,
    );
  return EXIT.ok;
}
