import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "@keyward/attest/bytes";
import { loadSimPlatform } from "@keyward/platform/sim";
import { parseFlags, usageError } from "../args.ts";
import { dataDir } from "../config.ts";
import type { Command } from "../main.ts";
import { EXIT } from "../output.ts";

/**
 * `keyward sim quote --tee sgx|tdx --report-data HEX [--mrenclave HEX] [--mrsigner HEX] [--mrtd HEX]
 * [--debug] [--version 4|5] --out FILE [--collateral-out FILE] [--data-dir DIR]`
 */
export const command: Command = {
  summary: "write a quote from the simulated platform (for demos and tests)",
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      tee: { type: "string" },
      "report-data": { type: "string" },
      mrenclave: { type: "string" },
      mrsigner: { type: "string" },
      "isv-prod-id": { type: "string" },
      "isv-svn": { type: "string" },
      mrtd: { type: "string" },
      debug: { type: "boolean" },
      version: { type: "string" },
      out: { type: "string" },
      "collateral-out": { type: "string" },
      "data-dir": { type: "string" },
    });
    if (positionals.length > 0 || values.out === undefined)
      usageError("usage: keyward sim quote --tee sgx|tdx --report-data HEX --out FILE");
    const reportData = pad64(values["report-data"] ?? "");
    const sim = loadSimPlatform(join(dataDir(values["data-dir"]), "sim"));
    let quote: Uint8Array;
    const debug = values.debug === true;
    if (values.tee === "sgx") {
      quote = sim.quoteSgx({
        mrEnclave: exact(values.mrenclave, 32, "--mrenclave"),
        mrSigner: exact(values.mrsigner, 32, "--mrsigner"),
        isvProdId: int(values["isv-prod-id"], "--isv-prod-id"),
        isvSvn: int(values["isv-svn"], "--isv-svn"),
        attributes: Uint8Array.of(debug ? 0x07 : 0x05, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0),
        reportData,
      });
    } else if (values.tee === "tdx") {
      const version = values.version === undefined ? 4 : Number(values.version);
      if (version !== 4 && version !== 5) usageError("--version: 4 or 5");
      quote = sim.quoteTdx(
        {
          mrTd: exact(values.mrtd, 48, "--mrtd"),
          reportData,
          tdAttributes: Uint8Array.of(debug ? 1 : 0, 0, 0, 0x10, 0, 0, 0, 0),
        },
        version,
      );
    } else {
      return usageError("--tee sgx|tdx is required");
    }
    writeFileSync(values.out, quote);
    if (values["collateral-out"] !== undefined)
      writeFileSync(values["collateral-out"], sim.collateralJson(values.tee));
    return EXIT.ok;
  },
};

function pad64(hex: string): Uint8Array {
  const b = fromHex(hex, "--report-data");
  if (b.byteLength > 64) usageError("--report-data: at most 64 bytes");
  const out = new Uint8Array(64);
  out.set(b);
  return out;
}

function exact(hex: string | undefined, n: number, flag: string): Uint8Array {
  if (hex === undefined) return new Uint8Array(n);
  const b = fromHex(hex, flag);
  if (b.byteLength !== n) usageError(`${flag}: ${n} bytes of hex`);
  return b;
}

function int(s: string | undefined, flag: string): number {
  const n = s === undefined ? 0 : Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) usageError(`${flag}: an integer 0..65535`);
  return n;
}
