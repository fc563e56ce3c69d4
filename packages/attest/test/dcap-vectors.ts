/**
 * The real DCAP vectors (see vectors/dcap/MANIFEST.md), loaded for tests and benchmarks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const DCAP_DIR: string = fileURLToPath(new URL("./vectors/dcap/", import.meta.url));

export interface DcapVector {
  readonly name: string;
  readonly quote: Uint8Array;
  readonly collateralText: string;
  readonly at: Date;
  /** expected.json as shipped. */
  // biome-ignore lint/suspicious/noExplicitAny: the oracle is free-form JSON
  readonly expected: any;
}

export function dcapVectors(): DcapVector[] {
  return readdirSync(DCAP_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const dir = join(DCAP_DIR, e.name);
      const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
      return {
        name: e.name,
        quote: new Uint8Array(readFileSync(join(dir, "quote.bin"))),
        collateralText: readFileSync(join(dir, "collateral.json"), "utf8"),
        at: new Date(expected.verify_at),
        expected,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function vectorFile(name: string, file: string): string {
  return join(DCAP_DIR, name, file);
}
