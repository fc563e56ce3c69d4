import { request } from "node:http";
import type { TLSSocket } from "node:tls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { readTextBounded } from "@keyward/platform/io";
import { hexFlag, required, usageError } from "../args.ts";
import { licensingClient } from "../license-session.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { licenseConnect } from "../specs/licensing.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward license connect ENCLAVE-ID (--ak-name HEX… | --ek-roots FILE) [--get PATH]` — verifies
 * the binding for a fresh nonce, connects pinned to the bound certificate and, with --get, sends
 * one GET over that connection. Exit 0 verified (and answered); 1 refused before any byte was sent
 * (ERR_LICENSING_BINDING_MISMATCH, ERR_LICENSING_AK_UNTRUSTED, ERR_TPM_*); 2 usage.
 */
export async function run({ values, json, positionals }: Parsed<typeof licenseConnect>): Promise<ExitCode> {
  const enclaveId = required(positionals[0], "ENCLAVE-ID", licenseConnect);
  // Files first: an unreadable one is ERR_IO whatever else is wrong.
  const rootsFile = values["ek-roots"];
  const roots =
    rootsFile === undefined
      ? undefined
      : parsePemCertificates(readTextBounded(rootsFile, { kind: "certificate", what: "EK roots" }));
  const names = (values["ak-name"] ?? []).map((h) => hexFlag(h, "ak-name", licenseConnect));
  const client = await licensingClient(values, licenseConnect, true);
  if ((names.length === 0) === (roots === undefined))
    usageError(
      "give the AK's trust: --ak-name HEX (pinned) or --ek-roots FILE (EK certificate), one of them",
      licenseConnect,
    );
  const trust = roots === undefined ? ({ kind: "pinned", names } as const) : ({ kind: "ek", roots } as const);
  const c = await client.connect(enclaveId, trust);
  const certificateSha256 = Buffer.from(c.certificateSha256).toString("hex");
  const result: Record<string, unknown> = {
    verified: true,
    enclave: c.enclave.id,
    host: c.enclave.host,
    port: c.enclave.port,
    certificateSha256,
    akName: c.quote.akName === undefined ? undefined : Buffer.from(c.quote.akName).toString("hex"),
  };
  try {
    if (values.get !== undefined) {
      if (!values.get.startsWith("/")) usageError("--get takes a path starting with /", licenseConnect);
      result.answer = await getOver(c.socket, values.get);
    }
  } finally {
    c.socket.destroy();
  }
  if (json) printJson(result);
  else {
    say(
      `verified: enclave ${c.enclave.id} at ${c.enclave.host}:${c.enclave.port}, certificate SHA-256 ${certificateSha256}`,
    );
    if (result.answer !== undefined) say(JSON.stringify(result.answer));
  }
  return EXIT.ok;
}

function getOver(socket: TLSSocket, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { createConnection: () => socket, path, method: "GET", headers: { host: "enclave" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          if (body.length < 1 << 20) body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
