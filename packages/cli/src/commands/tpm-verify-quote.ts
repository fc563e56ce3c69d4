import { createPublicKey } from "node:crypto";
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
import { readFileBounded } from "@keyward/platform/io";
import { hexFlag, required, usageError } from "../args.ts";
import { EXIT, type ExitCode, errorJson, printJson, say, warn } from "../output.ts";
import { tpmVerifyQuote } from "../specs/tpm.ts";
import type { Parsed } from "../specs/types.ts";

const BANK_NAMES: Readonly<Record<number, string>> = { 4: "sha1", 11: "sha256", 12: "sha384", 13: "sha512" };

/**
 * `keyward tpm verify-quote --ak FILE --quote FILE --sig FILE (--nonce HEX | --nonce-file FILE)
 * [--pcrs FILE --pcr-list sha256:16,23] [--cert FILE --binding pcr23|extradata] [--ak-qname FILE] [--json]`
 */
export async function run({ values: v, json }: Parsed<typeof tpmVerifyQuote>): Promise<ExitCode> {
  const akPath = required(v.ak, "ak", tpmVerifyQuote);
  const quotePath = required(v.quote, "quote", tpmVerifyQuote);
  const sigPath = required(v.sig, "sig", tpmVerifyQuote);
  if ((v.nonce === undefined) === (v["nonce-file"] === undefined))
    usageError("exactly one of --nonce HEX or --nonce-file FILE");
  const nonce =
    v.nonce !== undefined
      ? hexFlag(v.nonce, "--nonce", tpmVerifyQuote)
      : readFileBounded(v["nonce-file"] ?? "", { kind: "key", what: "nonce" });
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
    ak = readAk(akPath);
  } catch (e) {
    if (!(e instanceof KeywardError) || e.code === "ERR_USAGE" || e.code === "ERR_IO") throw e;
    return reject(e, json, undefined);
  }
  const selection = v["pcr-list"] === undefined ? undefined : usable(() => parsePcrList(v["pcr-list"] ?? ""));
  const certHash =
    v.cert === undefined
      ? undefined
      : sha256(certificateDer(readFileBounded(v.cert, { kind: "certificate", what: "certificate" })));
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
    quote: readFileBounded(quotePath, { kind: "evidence", what: "quote" }),
    signature: readFileBounded(sigPath, { kind: "evidence", what: "signature" }),
    extraData,
    ...(selection === undefined ? {} : { pcrSelection: selection }),
    ...(v.pcrs === undefined
      ? {}
      : { pcrValues: readFileBounded(v.pcrs, { kind: "evidence", what: "PCR values" }) }),
    pcrPolicy,
    ...(v["ak-qname"] === undefined
      ? {}
      : { qualifiedSigner: readFileBounded(v["ak-qname"], { kind: "evidence", what: "AK qualified name" }) }),
  };
  let verdict: ReturnType<typeof verifyTpmQuote>;
  try {
    verdict = verifyTpmQuote(check);
  } catch (e) {
    if (!(e instanceof KeywardError) || e.code === "ERR_USAGE" || e.code === "ERR_IO") throw e;
    return reject(e, json, check);
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
  if (json) printJson(out);
  else
    say(
      `verified: quote by AK ${Buffer.from(verdict.akName ?? []).toString("hex") || "(pinned key)"}, binding ${out.binding}`,
    );
  return EXIT.ok;
}

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
  if (json) printJson(errorJson(e, { check: failedCheck, failedChecks }));
  warn(`keyward: rejected (${failedChecks.join(", ")}): ${e.code}: ${e.message}`);
  return EXIT.rejected;
}

function readAk(path: string): TpmQuoteCheck["ak"] {
  const bytes = readFileBounded(path, { kind: "evidence", what: "AK" });
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
    if (e instanceof KeywardError) usageError(e.message, tpmVerifyQuote);
    throw e;
  }
}
