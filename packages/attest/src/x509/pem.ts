/**
 * Strict PEM (RFC 7468): only the labels asked for, base64 that decodes exactly, a ceiling on the
 * count. Read with a scan for the encapsulation boundaries rather than one regular expression over
 * the whole text (a PCK chain is read on every cold verification).
 *
 * @module
 */
import { KeywardError } from "../errors/keyward-error.ts";

const BEGIN = "-----BEGIN ";
const END = "-----END ";
const DASHES = "-----";
const LABEL = /^[A-Z0-9 ]+$/;

/**
 * The DER bodies of the PEM blocks labelled `label` in `text`. Anything other than whitespace
 * (and NUL, which DCAP certification data carries at the end) between blocks is refused.
 * @throws ERR_ENCODING_INVALID
 */
export function pemBlocks(text: string, label: string, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, at);
    if (begin < 0) break;
    if (!blank(text, at, begin)) invalid("text between PEM blocks");
    const labelStart = begin + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    const found = labelEnd < 0 ? "" : text.slice(labelStart, labelEnd);
    if (!LABEL.test(found)) invalid("a PEM header without a label");
    const close = `${END}${found}${DASHES}`;
    const bodyStart = labelEnd + DASHES.length;
    const bodyEnd = text.indexOf(close, bodyStart);
    if (bodyEnd < 0) invalid(`no end line for PEM label ${found}`);
    if (found !== label) invalid(`unexpected PEM label ${found}`);
    if (!base64(text, bodyStart, bodyEnd)) invalid("bad base64 in PEM");
    if (out.length >= max) invalid(`more than ${max} PEM blocks`);
    // Node's decoder skips the line breaks; every other character was checked above.
    const der = Buffer.from(text.slice(bodyStart, bodyEnd), "base64");
    out.push(new Uint8Array(der.buffer, der.byteOffset, der.byteLength));
    at = bodyEnd + close.length;
  }
  if (!blank(text, at, text.length)) invalid("text after the last PEM block");
  if (out.length === 0) invalid(`no ${label} PEM block`);
  return out;
}

/** PEM text for one DER body. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}

// RFC 4648 base64 between `from` and `to`, line breaks and spaces aside: only the alphabet, at
// most two "=" and only at the end, a multiple of four characters.
function base64(text: string, from: number, to: number): boolean {
  let n = 0;
  let pad = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x3d) {
      pad++;
    } else if (
      pad > 0 ||
      !(
        (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x61 && c <= 0x7a) ||
        (c >= 0x30 && c <= 0x39) ||
        c === 0x2b ||
        c === 0x2f
      )
    ) {
      return false;
    }
    n++;
  }
  return pad <= 2 && n % 4 === 0;
}

// Whitespace or NUL only, from `from` to `to`.
function blank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x00 && c !== 0x0b && c !== 0x0c)
      return false;
  }
  return true;
}

function invalid(message: string): never {
  throw new KeywardError("ERR_ENCODING_INVALID", `PEM: ${message}`);
}
