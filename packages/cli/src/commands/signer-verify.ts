import { toHex } from "@keyward/attest/bytes";
import { KeywardError } from "@keyward/attest/errors";
import { type SignatureFormat, verifySignature } from "@keyward/attest/signer";
import { readFileBounded } from "@keyward/platform/io";
import { required } from "../args.ts";
import { EXIT, type ExitCode, printJson, reportRejection, say, warn } from "../output.ts";
import { checkBundle, readBundle } from "../signer-trust.ts";
import { signerVerify } from "../specs/signer.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward signer verify --bundle FILE --in FILE --sig FILE [--format F] [--policy FILE] …` —
 * exit 0 when the bundle verifies and is accepted and the signature verifies under its key.
 */
export async function run({ values, json }: Parsed<typeof signerVerify>): Promise<ExitCode> {
  const bundle = readBundle(required(values.bundle, "bundle", signerVerify));
  const data = readFileBounded(required(values.in, "in", signerVerify), {
    kind: "signedData",
    what: "signed data",
  });
  const sig = readFileBounded(required(values.sig, "sig", signerVerify), {
    kind: "evidence",
    what: "signature",
  });
  const format = (values.format as SignatureFormat | undefined) ?? formatOf(sig);
  const { attested, appraisal, policyGiven } = await checkBundle(bundle, values);
  const result = {
    keyId: toHex(attested.keyId),
    purpose: attested.purpose,
    generation: attested.generation,
    format,
  };
  if (!appraisal.accepted)
    return reportRejection(
      new KeywardError("ERR_POLICY_REJECTED", `policy ${appraisal.policyId} refuses the key's enclave`),
      json,
      { ...result, appraisal },
    );
  if (!policyGiven)
    warn(
      "keyward: no --policy: the key's enclave was checked against the default policy only (no MRENCLAVE)",
    );
  verifySignature(format, attested.key, attested.keyId, data, sig);
  if (json) printJson({ ...result, verified: true });
  else
    say(
      `verified: ${format} signature by key ${result.keyId} (${result.purpose}, generation ${result.generation})`,
    );
  return EXIT.ok;
}

// COSE_Sign1 starts with tag 18 (0xd2) or, untagged, an array of four (0x84); DER with a SEQUENCE.
function formatOf(sig: Uint8Array): SignatureFormat {
  if (sig[0] === 0xd2 || sig[0] === 0x84) return "cose";
  if (sig[0] === 0x30 && sig.byteLength !== 64) return "der";
  return "raw";
}
