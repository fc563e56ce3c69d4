/** The `keyward tpm …` commands. */
import type { CommandSpec } from "./types.ts";

const BINDING = {
  type: "string",
  value: "pcr23|extradata",
  choices: ["pcr23", "extradata"],
  help: "how the certificate is bound: extended into PCR 23, or hashed into the quote's extraData",
} as const;

/** `keyward tpm quote`. */
export const tpmQuote = {
  name: "tpm quote",
  summary:
    "quote PCRs with a TPM (swtpm over TCP or a unix socket, or /dev/tpmrm0) into files a verifier takes",
  synopsis:
    "--tpm URI --nonce HEX [--pcr-list sha256:23] --out DIR [--ak-type ecc|rsa] [--cert FILE --binding pcr23|extradata] [--json]",
  options: {
    tpm: { type: "string", value: "URI", help: "tcp://HOST:PORT, unix:PATH or a device such as /dev/tpmrm0" },
    nonce: { type: "string", value: "HEX", help: "the verifier's fresh nonce, 16 to 32 bytes" },
    "pcr-list": { type: "string", value: "BANK:N,…", help: "PCRs to quote (default: sha256:23)" },
    out: { type: "string", value: "DIR", path: "dir", help: "directory for quote.msg, quote.sig, ak.pub, …" },
    "ak-type": {
      type: "string",
      value: "ecc|rsa",
      choices: ["ecc", "rsa"],
      help: "AK algorithm (default: ecc)",
    },
    cert: { type: "string", value: "FILE", file: "certificate", help: "a certificate to bind to the quote" },
    binding: BINDING,
  },
  json: true,
  examples: ["--tpm tcp://127.0.0.1:2321 --nonce 00112233445566778899aabbccddeeff --out quote/"],
} as const satisfies CommandSpec;

/** `keyward tpm verify-quote`. */
export const tpmVerifyQuote = {
  name: "tpm verify-quote",
  summary:
    "verify a TPM 2.0 quote against a trusted AK, a fresh nonce and (optionally) a certificate binding",
  synopsis:
    "--ak FILE --quote FILE --sig FILE (--nonce HEX | --nonce-file FILE) [--pcrs FILE --pcr-list sha256:16,23] [--cert FILE --binding pcr23|extradata] [--ak-qname FILE] [--json]",
  options: {
    ak: { type: "string", value: "FILE", file: "evidence", help: "the AK: TPM2B_PUBLIC or a PEM public key" },
    quote: { type: "string", value: "FILE", file: "evidence", help: "the quote (TPMS_ATTEST)" },
    sig: { type: "string", value: "FILE", file: "evidence", help: "its signature (TPMT_SIGNATURE)" },
    nonce: { type: "string", value: "HEX", help: "the nonce the quote must carry (at least 16 bytes)" },
    "nonce-file": { type: "string", value: "FILE", file: "key", help: "the nonce, as a binary file" },
    pcrs: {
      type: "string",
      value: "FILE",
      file: "evidence",
      help: "the PCR values (as tpm2_quote writes them)",
    },
    "pcr-list": { type: "string", value: "BANK:N,…", help: "the PCR selection the quote must have" },
    cert: { type: "string", value: "FILE", file: "certificate", help: "the certificate the quote must bind" },
    binding: BINDING,
    "ak-qname": { type: "string", value: "FILE", file: "evidence", help: "the AK's expected qualified name" },
  },
  json: true,
  examples: [
    "--ak ak.pub --quote quote.msg --sig quote.sig --nonce-file nonce.bin --pcrs pcrs.bin --pcr-list sha256:23",
  ],
} as const satisfies CommandSpec;
