import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "@keyward/attest/bytes";
import { sha256 } from "@keyward/attest/crypto";
import { parsePcrList, parseTpm2bPublic, qualifiedName, TPM_ALG } from "@keyward/attest/tpm";
import { akEccTemplate, akRsaTemplate, TPM_RH, TpmClient } from "@keyward/platform/tpm";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

/**
 * `keyward tpm quote --tpm URI --nonce HEX [--pcr-list sha256:23] --out DIR [--ak-type ecc|rsa]
 * [--cert FILE --binding pcr23|extradata] [--json]`
 */
export const command: Command = {
  summary:
    "quote PCRs with a TPM (swtpm over TCP or a unix socket, or /dev/tpmrm0) into files a verifier takes",
  async run(args) {
    const { values: v, positionals } = parseFlags(args, {
      tpm: { type: "string" },
      nonce: { type: "string" },
      "pcr-list": { type: "string" },
      out: { type: "string" },
      "ak-type": { type: "string" },
      cert: { type: "string" },
      binding: { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0 || v.tpm === undefined || v.nonce === undefined || v.out === undefined) {
      usageError("usage: keyward tpm quote --tpm URI --nonce HEX [--pcr-list sha256:23] --out DIR");
    }
    const nonce = fromHex(v.nonce, "--nonce");
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
    const certHash = v.cert === undefined ? undefined : sha256(readBytes(v.cert, "certificate"));
    const qualifying = certHash !== undefined && v.binding === "extradata" ? sha256(nonce, certHash) : nonce;

    const tpm = TpmClient.open(v.tpm);
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
        mkdirSync(v.out, { recursive: true });
        writeFileSync(join(v.out, "quote.msg"), quote.attest);
        writeFileSync(join(v.out, "quote.sig"), quote.signature);
        writeFileSync(join(v.out, "ak.pub"), ak.public);
        writeFileSync(join(v.out, "ak.name"), ak.name);
        writeFileSync(join(v.out, "ak.qname"), qualifiedName(Uint8Array.of(0x40, 0, 0, 0x0b), pub));
        writeFileSync(join(v.out, "pcrs.bin"), pcrs);
        writeFileSync(join(v.out, "nonce.bin"), nonce);
        const out = {
          out: v.out,
          akName: ak.name,
          extraData: qualifying,
          files: ["quote.msg", "quote.sig", "ak.pub", "ak.name", "ak.qname", "pcrs.bin", "nonce.bin"],
        };
        if (v.json === true) printJson(out);
        else process.stdout.write(`quote written to ${v.out} (AK ${Buffer.from(ak.name).toString("hex")})\n`);
      } finally {
        await tpm.flushContext(ak.handle);
      }
    } finally {
      tpm.close();
    }
    return EXIT.ok;
  },
};
