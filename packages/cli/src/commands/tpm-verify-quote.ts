import { createPublicKey } from "node:crypto";
import { fromHex } from "@keyward/attest/bytes";
import { sha256 } from "@keyward/attest/crypto";
import { KeywardError } from "@keyward/attest/errors";
import {
  diagnoseTpmQuote,
  type PcrExpectation,
  parsePcrList,
  parseTpm2bPublic,
  TPM_ALG,
  type TpmQuoteCheck,
  verifyTpmQuote,
} from "@keyward/attest/tpm";
import { parseFlags, usageError } from "../args.ts";
import type { Command } from "../main.ts";
import { EXIT, type ExitCode, printJson } from "../output.ts";
import { readBytes } from "../read-input.ts";

const BANK_NAMES: Readonly<Record<number, string>> = { 4: "sha1", 11: "sha256", 12: "sha384", 13: "sha512" };

/**
 * `keyward tpm verify-quote --ak FILE --quote FILE --sig FILE (--nonce HEX | --nonce-file FILE)
 * [--pcrs FILE --pcr-list sha256:16,23] [--cert FILE --binding pcr23|extradata] [--ak-qname FILE] [--json]`
 */
export const command: Command = {
  summary:
    "verify a TPM 2.0 quote against a trusted AK, a fresh nonce and (optionally) a certificate binding",
  async run(args) {
    const { values: v, positionals } = parseFlags(args, {
      ak: { type: "string" },
      quote: { type: "string" },
      sig: { type: "string" },
      nonce: { type: "string" },
      "nonce-file": { type: "string" },
      pcrs: { type: "string" },
      "pcr-list": { type: "string" },
      cert: { type: "string" },
      binding: { type: "string" },
      "ak-qname": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals.length > 0 || v.ak === undefined || v.quote === undefined || v.sig === undefined) {
      usageError(
        "usage: keyward tpm verify-quote --ak FILE --quote FILE --sig FILE (--nonce HEX | --nonce-file FILE)",
      );
    }
    if ((v.nonce === undefined) === (v["nonce-file"] === undefined))
      usageError("exactly one of --nonce HEX or --nonce-file FILE");
    const nonce =
      v.nonce !== undefined ? fromHex(v.nonce, "--nonce") : readBytes(v["nonce-file"] ?? "", "nonce");
    // A quote is fresh only if its nonce was: a short or empty one is a replayable quote.
    if (nonce.byteLength < 16)
      usageError("the nonce must be at least 16 bytes (a fresh, single-use challenge)");
    if ((v.pcrs === undefined) !== (v["pcr-list"] === undefined))
      usageError("--pcrs and --pcr-list go together");
    if ((v.cert === undefined) !== (v.binding === undefined)) usageError("--cert and --binding go together");
    if (v.binding !== undefined && v.binding !== "pcr23" && v.binding !== "extradata")
      usageError("--binding pcr23|extradata");

    // The AK comes from the party being verified: a malformed one is a rejection, not a usage error.
    let ak: TpmQuoteCheck["ak"];
    try {
      ak = readAk(v.ak);
    } catch (e) {
      if (!(e instanceof KeywardError) || e.code === "ERR_USAGE" || e.code === "ERR_IO") throw e;
      return reject(e, v.json === true, undefined);
    }
    const selection =
      v["pcr-list"] === undefined ? undefined : usable(() => parsePcrList(v["pcr-list"] ?? ""));
    const certHash =
      v.cert === undefined ? undefined : sha256(certificateDer(readBytes(v.cert, "certificate")));
    let extraData = nonce;
    const pcrPolicy: PcrExpectation[] = [];
    if (certHash !== undefined && v.binding === "extradata") extraData = sha256(nonce, certHash);
    if (certHash !== undefined && v.binding === "pcr23") {
      if (!selection?.some((b) => b.hash === TPM_ALG.SHA256 && b.pcrs.includes(23))) {
        usageError("--binding pcr23 needs --pcrs and a --pcr-list that selects sha256:23");
      }
      pcrPolicy.push({
        hash: TPM_ALG.SHA256,
        index: 23,
        value: sha256(new Uint8Array(32), certHash),
        check: "pcr23MatchesCert",
      });
    }
    const check: TpmQuoteCheck = {
      ak,
      quote: readBytes(v.quote, "quote"),
      signature: readBytes(v.sig, "signature"),
      extraData,
      ...(selection === undefined ? {} : { pcrSelection: selection }),
      ...(v.pcrs === undefined ? {} : { pcrValues: readBytes(v.pcrs, "PCR values") }),
      pcrPolicy,
      ...(v["ak-qname"] === undefined
        ? {}
        : { qualifiedSigner: readBytes(v["ak-qname"], "AK qualified name") }),
    };
    let verdict: ReturnType<typeof verifyTpmQuote>;
    try {
      verdict = verifyTpmQuote(check);
    } catch (e) {
      if (!(e instanceof KeywardError) || e.code === "ERR_USAGE" || e.code === "ERR_IO") throw e;
      return reject(e, v.json === true, check);
    }
    const out = {
      verified: true,
      ...(verdict.akName === undefined ? {} : { akName: verdict.akName }),
      akAttributesChecked: verdict.akAttributesChecked,
      qualifiedSigner: verdict.qualifiedSigner,
      extraData: verdict.extraData,
      binding: v.binding ?? "nonce",
      clockInfo: {
        clock: verdict.clock,
        resetCount: verdict.resetCount,
        restartCount: verdict.restartCount,
        safe: verdict.safe,
      },
      firmwareVersion: `0x${verdict.firmwareVersion.toString(16).padStart(16, "0")}`,
      pcrs: verdict.pcrs.map((p) => ({
        bank: BANK_NAMES[p.hash] ?? String(p.hash),
        index: p.index,
        value: p.value,
      })),
    };
    if (v.json === true) printJson(out);
    else
      process.stdout.write(
        `verified: quote by AK ${Buffer.from(verdict.akName ?? []).toString("hex") || "(pinned key)"}, binding ${out.binding}\n`,
      );
    return EXIT.ok;
  },
};

// Exit 1 with the first failed check; `failedChecks` lists every check that fails (diagnostics).
function reject(e: KeywardError, json: boolean, check: TpmQuoteCheck | undefined): ExitCode {
  const failedCheck = typeof e.detail?.check === "string" ? e.detail.check : "parse";
  let failedChecks = [failedCheck];
  if (check !== undefined) {
    try {
      failedChecks = diagnoseTpmQuote(check);
    } catch {
      // diagnostics only: the verdict stands
    }
  }
  if (json) printJson({ error: { code: e.code, message: e.message, check: failedCheck, failedChecks } });
  else process.stderr.write(`rejected (${failedChecks.join(", ")}): ${e.code}: ${e.message}\n`);
  return EXIT.rejected;
}

function readAk(path: string): TpmQuoteCheck["ak"] {
  const bytes = readBytes(path, "AK");
  const text = new TextDecoder().decode(bytes.subarray(0, 64));
  if (text.startsWith("-----BEGIN")) {
    try {
      return { pinned: createPublicKey(Buffer.from(bytes)) };
    } catch (cause) {
      throw new KeywardError("ERR_IO", `AK ${path}: not a PEM public key`, { cause });
    }
  }
  return parseTpm2bPublic(bytes);
}

function certificateDer(bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(bytes.subarray(0, 64));
  if (!text.includes("-----BEGIN CERTIFICATE-----")) return bytes;
  const body = new TextDecoder()
    .decode(bytes)
    .replace(/-----[A-Z ]+-----/g, "")
    .replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(body, "base64"));
}

function usable<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KeywardError) usageError(e.message);
    throw e;
  }
}
