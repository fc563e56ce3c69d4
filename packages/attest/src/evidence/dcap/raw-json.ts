/**
 * Finds the exact bytes of a member's value in a JSON object text. Intel signs the `tcbInfo` and
 * `enclaveIdentity` values as transmitted; re-serializing them would change the signed bytes
 * (key order, spacing, number forms), so the verifier must cut them out of the response as is.
 *
 * @module
 */
import { KeywardError } from "../../errors/keyward-error.ts";

/**
 * The text of the value of the top-level member `key` of the JSON object in `text`, byte for byte.
 * The whole text must also be valid JSON.
 * @throws ERR_DCAP_COLLATERAL_MALFORMED
 */
export function rawJsonMember(text: string, key: string): string {
  try {
    JSON.parse(text);
  } catch (cause) {
    fail(`not valid JSON`, cause);
  }
  let i = skipSpace(text, 0);
  if (text[i] !== "{") fail("not a JSON object");
  i++;
  let found: string | undefined;
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] === "}") break;
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text[i] !== ":") fail("expected ':'");
    const start = skipSpace(text, i + 1);
    const end = skipValue(text, start);
    if (name === key) {
      if (found !== undefined) fail(`member "${key}" appears twice`);
      found = text.slice(start, end);
    }
    i = skipSpace(text, end);
    if (text[i] === ",") i++;
  }
  if (found === undefined) fail(`no member "${key}"`);
  return found;
}

function skipSpace(t: string, from: number): number {
  let i = from;
  while (i < t.length && (t[i] === " " || t[i] === "\n" || t[i] === "\r" || t[i] === "\t")) i++;
  return i;
}

function skipString(t: string, i: number): number {
  if (t[i] !== '"') fail("expected a string");
  for (let j = i + 1; j < t.length; j++) {
    if (t[j] === "\\") j++;
    else if (t[j] === '"') return j + 1;
  }
  return fail("unterminated string");
}

function skipValue(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return skipString(t, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t[j];
      if (d === '"') {
        j = skipString(t, j) - 1;
      } else if (d === "{" || d === "[") {
        depth++;
      } else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return fail("unterminated value");
  }
  let j = i;
  while (j < t.length && !",}] \n\r\t".includes(t[j] ?? "")) j++;
  return j;
}

function fail(message: string, cause?: unknown): never {
  throw new KeywardError("ERR_DCAP_COLLATERAL_MALFORMED", `PCS response: ${message}`, { cause });
}
