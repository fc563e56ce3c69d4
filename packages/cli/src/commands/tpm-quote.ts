import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "@keyward/attest/crypto";
import { parsePcrList, parseTpm2bPublic, qualifiedName, TPM_ALG } from "@keyward/attest/tpm";
import { readFileBounded } from "@keyward/platform/io";
import { akEccTemplate, akRsaTemplate, TPM_RH, TpmClient } from "@keyward/platform/tpm";
import { hexFlag, required, usageError } from "../args.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { tpmQuote } from "../specs/tpm.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward tpm quote --tpm URI --nonce HEX [--pcr-list sha256:23] --out DIR [--ak-type ecc|rsa]
 * [--cert FILE --binding pcr23|extradata] [--json]`
 */
export async function run({ values: v, json }: Parsed<typeof tpmQuote>): Promise<ExitCode> {
  const tpmUri = required(v.tpm, "tpm", tpmQuote);
  const out = required(v.out, "out", tpmQuote);
  const nonce = hexFlag(required(v.nonce, "nonce", tpmQuote), "--nonce", tpmQuote);
  if (nonce.byteLength < 16 || nonce.byteLength > 32) usageError("--nonce: 16 to 32 bytes of hex");
  const akType = v["ak-type"] ?? "ecc";
  if (akType !== "ecc" && akType !== "rsa") usageError("--ak-type ecc|rsa");
  if ((v.cert === undefined) !== (v.binding === undefined)) usageError("--cert and --binding go together");
  if (v.binding !== undefined && v.binding !== "pcr23" && v.binding !== "extradata")
    usageError("--binding pcr23|extradata");
  let selection: ReturnType<typeof parsePcrList>;
  try {
    selection = parsePcrList(v["pcr-list"] ?? "sha256:23");
  } catch (e) {
    return usageError(e instanceof Error ? e.message : String(e));
  }
  const certHash =
    v.cert === undefined
      ? undefined
      : sha256(readFileBounded(v.cert, { kind: "certificate", what: "certificate" }));
  const qualifying = certHash !== undefined && v.binding === "extradata" ? sha256(nonce, certHash) : nonce;

  const tpm = TpmClient.open(tpmUri);
  try {
    await tpm.startup();
    if (certHash !== undefined && v.binding === "pcr23") {
      if (!selection.some((b) => b.hash === TPM_ALG.SHA256 && b.pcrs.includes(23)))
        usageError("--binding pcr23 needs sha256:23 in --pcr-list");
      // PCR 23 accumulates: reset it so that it holds exactly extend(0, SHA-256(certificate)).
      await tpm.pcrReset(23);
      await tpm.pcrExtend(23, certHash);
    }
    // The AK is a primary key of the endorsement hierarchy: the same template gives the same
    // key on every run against the same TPM, so a verifier can pin it.
    const ak = await tpm.createPrimary(
      TPM_RH.ENDORSEMENT,
      akType === "ecc" ? akEccTemplate() : akRsaTemplate(),
    );
    try {
      const quote = await tpm.quote(ak.handle, qualifying, selection);
      const pcrs = await tpm.pcrRead(selection);
      const pub = parseTpm2bPublic(ak.public);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, "quote.msg"), quote.attest);
      writeFileSync(join(out, "quote.sig"), quote.signature);
      writeFileSync(join(out, "ak.pub"), ak.public);
      writeFileSync(join(out, "ak.name"), ak.name);
      writeFileSync(join(out, "ak.qname"), qualifiedName(Uint8Array.of(0x40, 0, 0, 0x0b), pub));
      writeFileSync(join(out, "pcrs.bin"), pcrs);
      writeFileSync(join(out, "nonce.bin"), nonce);
      const result = {
        out,
        akName: ak.name,
        extraData: qualifying,
        files: ["quote.msg", "quote.sig", "ak.pub", "ak.name", "ak.qname", "pcrs.bin", "nonce.bin"],
      };
      if (json) printJson(result);
      else say(`quote written to ${out} (AK ${Buffer.from(ak.name).toString("hex")})`);
    } finally {
      await tpm.flushContext(ak.handle);
    }
  } finally {
    tpm.close();
  }
  return EXIT.ok;
}
