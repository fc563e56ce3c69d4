import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSimPlatform } from "@keyward/platform/sim";
import { hexFlag, required, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import { EXIT, type ExitCode, printJson, say } from "../output.ts";
import { simQuote } from "../specs/sim.ts";
import type { Parsed } from "../specs/types.ts";

/**
 * `keyward sim quote --tee sgx|tdx --report-data HEX [--mrenclave HEX] [--mrsigner HEX] [--mrtd HEX]
 * [--debug] [--version 4|5] --out FILE [--collateral-out FILE] [--data-dir DIR] [--json]`
 */
export async function run({ values, json }: Parsed<typeof simQuote>): Promise<ExitCode> {
  const out = required(values.out, "out", simQuote);
  const tee = required(values.tee, "tee", simQuote);
  const reportData = pad64(values["report-data"] ?? "");
  const sim = loadSimPlatform(join(dataDir(values["data-dir"]), "sim"));
  let quote: Uint8Array;
  const debug = values.debug === true;
  if (tee === "sgx") {
    quote = sim.quoteSgx({
      mrEnclave: exact(values.mrenclave, 32, "--mrenclave"),
      mrSigner: exact(values.mrsigner, 32, "--mrsigner"),
      isvProdId: int(values["isv-prod-id"], "--isv-prod-id"),
      isvSvn: int(values["isv-svn"], "--isv-svn"),
      attributes: Uint8Array.of(debug ? 0x07 : 0x05, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0),
      reportData,
    });
  } else {
    quote = sim.quoteTdx(
      {
        mrTd: exact(values.mrtd, 48, "--mrtd"),
        reportData,
        tdAttributes: Uint8Array.of(debug ? 1 : 0, 0, 0, 0x10, 0, 0, 0, 0),
      },
      values.version === "5" ? 5 : 4,
    );
  }
  writeFileSync(out, quote);
  const collateralOut = values["collateral-out"];
  if (collateralOut !== undefined)
    writeFileSync(collateralOut, sim.collateralJson(tee === "sgx" ? "sgx" : "tdx"));
  if (json)
    printJson({
      tee,
      out,
      bytes: quote.byteLength,
      ...(collateralOut === undefined ? {} : { collateral: collateralOut }),
    });
  else
    say(
      `${tee.toUpperCase()} quote (${quote.byteLength} bytes) written to ${out}${collateralOut === undefined ? "" : `, collateral to ${collateralOut}`}`,
    );
  return EXIT.ok;
}

function pad64(hex: string): Uint8Array {
  const b = hexFlag(hex, "--report-data");
  if (b.byteLength > 64) usageError("--report-data: at most 64 bytes");
  const out = new Uint8Array(64);
  out.set(b);
  return out;
}

function exact(hex: string | undefined, n: number, flag: string): Uint8Array {
  if (hex === undefined) return new Uint8Array(n);
  const b = hexFlag(hex, flag);
  if (b.byteLength !== n) usageError(`${flag}: ${n} bytes of hex`);
  return b;
}

function int(s: string | undefined, flag: string): number {
  const n = s === undefined ? 0 : Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) usageError(`${flag}: an integer 0..65535`);
  return n;
}
