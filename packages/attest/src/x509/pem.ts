/**
 * Strict PEM: only the labels asked for, base64 that decodes exactly, a ceiling on the count.
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The DER bodies of the PEM blocks labelled `label` in `text`. Anything other than whitespace
 * (and NUL, which DCAP certification data carries at the end) between blocks is refused.
 * @throws ERR_ENCODING_INVALID
 */
export function pemBlocks(text: string, label: string, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let last = 0;
  for (const m of text.matchAll(BLOCK)) {
    if (!/^[\s\0]*$/.test(text.slice(last, m.index))) invalid("text between PEM blocks");
    if (m[1] !== label) invalid(`unexpected PEM label ${m[1]}`);
    const body = (m[2] ?? "").replace(/[\r\n\t ]/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) invalid("bad base64 in PEM");
    if (out.length >= max) invalid(`more than ${max} PEM blocks`);
    out.push(new Uint8Array(Buffer.from(body, "base64")));
    last = (m.index ?? 0) + m[0].length;
  }
  if (!/^[\s\0]*$/.test(text.slice(last))) invalid("text after the last PEM block");
  if (out.length === 0) invalid(`no ${label} PEM block`);
  return out;
}

/** PEM text for one DER body. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}

function invalid(message: string): never {
  throw new KeywardError("ERR_ENCODING_INVALID", `PEM: ${message}`);
}
