/**
 * Certificate extensions as received (RFC 5280 §4.1.2.9), and the two that path validation reads
 * (§4.2.1.9 basicConstraints, §4.2.1.3 keyUsage), decoded strictly from their values.
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";
import { DerReader, TAG } from "./der.ts";
import { OID_EXT } from "./oids.ts";

/** One certificate extension, as received. */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Key usages of RFC 5280 §4.2.1.3, by bit. */
export type KeyUsage =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

/** The key usages in bit order (bit 0 = digitalSignature), for parsing and for building. */
export const KEY_USAGE_BITS: readonly KeyUsage[] = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
];

/** basicConstraints: cA and pathLenConstraint (absent: not a CA). */
export function basicConstraints(extensions: readonly Extension[]): {
  isCa: boolean;
  pathLength: number | undefined;
} {
  const ext = extensions.find((e) => e.oid === OID_EXT.BASIC_CONSTRAINTS);
  if (ext === undefined) return { isCa: false, pathLength: undefined };
  const outer = new DerReader(ext.value, "basicConstraints", 2);
  const bc = outer.enter(TAG.SEQUENCE, "BasicConstraints");
  outer.end();
  const isCa = bc.peekTag() === TAG.BOOLEAN ? bc.boolean("cA") : false;
  const pathLength = bc.peekTag() === TAG.INTEGER ? bc.smallInteger("pathLenConstraint") : undefined;
  bc.end();
  return { isCa, pathLength };
}

/** keyUsage as a set of usages, or undefined when the extension is absent. */
export function keyUsage(extensions: readonly Extension[]): ReadonlySet<KeyUsage> | undefined {
  const ext = extensions.find((e) => e.oid === OID_EXT.KEY_USAGE);
  if (ext === undefined) return undefined;
  const r = new DerReader(ext.value, "keyUsage", 2);
  const bits = r.element(TAG.BIT_STRING, "KeyUsage").content;
  r.end();
  if (bits.byteLength < 1 || (bits[0] ?? 8) > 7) malformed("keyUsage: bad BIT STRING");
  const usages = new Set<KeyUsage>();
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bits[1 + (i >> 3)] ?? 0;
    if ((byte & (0x80 >> (i & 7))) !== 0) usages.add(name);
  });
  return usages;
}

function malformed(message: string): never {
  throw new KeywardError("ERR_X509_MALFORMED", `X.509: ${message}`);
}
