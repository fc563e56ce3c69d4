import { toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
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
