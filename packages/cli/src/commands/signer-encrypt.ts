import { writeFileSync } from "node:fs";
import { toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import { readFileBounded } from "@keyward/platform/io";
import { encryptToAttestedKey } from "@keyward/platform/signer";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, reportRejection, say } from "../output.ts";
import { checkBundle, readBundle } from "../signer-trust.ts";
import { signerEncrypt } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward signer encrypt --bundle FILE --in FILE [--out FILE.jwe] --policy FILE …` — exit 0 when
 * the bundle verifies, the policy accepts its enclave, and the JWE is written.
 */
export async function run({ values, json }: Parsed<typeof signerEncrypt>): Promise<ExitCode> {
  const policy = required(values.policy, "policy", signerEncrypt);
  const bundle = readBundle(required(values.bundle, "bundle", signerEncrypt));
  const input = required(values.in, "in", signerEncrypt);
  const plaintext = readFileBounded(input, { kind: "signedData", what: "data to encrypt" });
  const { attested, appraisal } = await checkBundle(bundle, { ...values, policy });
  const result = { keyId: toHex(attested.keyId), algorithm: attested.algorithm, purpose: attested.purpose };
  if (!appraisal.accepted)
    return reportRejection(
      new KeywardError("ERR_POLICY_REJECTED", `policy ${appraisal.policyId} refuses the key's enclave`),
      json,
      { ...result, appraisal },
    );
  const out = values.out ?? `${input}.jwe`;
  writeFileSync(out, `${await encryptToAttestedKey(attested, plaintext)}\n`, { flag: "wx", mode: 0o644 });
  if (json) printJson({ ...result, jwe: out });
  else say(`encrypted to key ${result.keyId} (${result.algorithm}): ${out}`);
  return EXIT.ok;
}
