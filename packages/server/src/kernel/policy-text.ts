/**
 * Policy documents from text, strictly: JSON or YAML, where anything a reader could take two
 * ways is an error with its line and column instead of a guess.
 *
 * - Duplicate keys (JSON.parse keeps the last; a reviewer reads the first).
 * - YAML: one document; only the core schema's tags (an unknown tag such as `!vault` is an error,
 *   not a warning); aliases bounded; keys are text.
 * - YAML's implicit typing: a plain (unquoted) value that resolves to a number or a boolean must be
 *   written the way that number or boolean prints. A MRENCLAVE of 64 digits would otherwise become
 *   the float 1.1e63, `0123` the number 123, `0x10` 16, `True` true: each is refused with "quote it".
 * - No parser message reaches a caller, a log or a terminal: the yaml library's messages quote the
 *   source line (which may hold an app token), and its warnings print to stderr by default. Each
 *   problem is rebuilt from the parser's code and position alone, and the parser's own logging is
 *   silenced.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { isScalar, LineCounter, parseAllDocuments, type Scalar, visit } from "yaml";

/** The format of a policy text. */
export type PolicyFormat = "json" | "yaml";

/** The most aliases a YAML policy may expand (a "billion laughs" document is refused). */
const MAX_ALIASES = 100;

// What the yaml library's codes mean, in our words (its messages quote the source; these never do).
const YAML_PROBLEMS: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: "a key given twice",
  TAG_RESOLVE_FAILED: "an unknown tag (only YAML's core tags are accepted)",
  MULTIPLE_DOCS: "more than one document",
  NON_STRING_KEY: "a key that is not text",
  RESOURCE_EXHAUSTION: "too many aliases",
  BAD_ALIAS: "an alias to no anchor",
  TAB_AS_INDENT: "a tab used for indentation",
  BAD_INDENT: "bad indentation",
  MISSING_CHAR: "a closing quote or bracket is missing",
  UNEXPECTED_TOKEN: "unexpected text",
  BAD_SCALAR_START: "a value starting with a reserved character (quote it)",
  BAD_DQ_ESCAPE: "a bad escape in a double-quoted value",
  BLOCK_AS_IMPLICIT_KEY: "a block used as a key",
  MULTILINE_IMPLICIT_KEY: "a key over several lines",
  KEY_OVER_1024_CHARS: "a key over 1024 characters",
  BLOCK_IN_FLOW: "a block inside a flow collection",
  BAD_DIRECTIVE: "a bad directive",
  ALIAS_PROPS: "an alias with a tag or anchor",
  MULTIPLE_ANCHORS: "several anchors on one node",
  MULTIPLE_TAGS: "several tags on one node",
  BAD_PROP_ORDER: "an anchor or tag in the wrong place",
  BAD_COLLECTION_TYPE: "a collection of the wrong kind for its tag",
};

/**
 * The value of a policy document's `text` in `format`.
 * @param source names the document in messages (a file name, `request`)
 * @throws ERR_POLICY_INVALID listing every problem as "line L, column C: …" (detail.problems)
 * @example parsePolicyText('id: a\nmrEnclave: "00…"', "yaml", "a.yaml")
 */
export function parsePolicyText(text: string, format: PolicyFormat, source: string): unknown {
  return format === "json" ? parseJsonPolicy(text, source) : parseYamlPolicy(text, source);
}

function invalid(source: string, what: string, problems: readonly string[]): KeywardError {
  return new KeywardError("ERR_POLICY_INVALID", `${source}: not valid ${what}: ${problems.join("; ")}`, {
    detail: { source, problems },
  });
}

function parseYamlPolicy(text: string, source: string): unknown {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    uniqueKeys: true,
    strict: true,
    logLevel: "silent",
    merge: false,
    schema: "core",
    lineCounter: lines,
  });
  const [doc, second] = docs;
  if (doc === undefined) return null;
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return `line ${p.line}, column ${p.col}`;
  };
  const problems = [...doc.errors, ...doc.warnings].map(
    (e) => `${at(e.pos[0])}: ${YAML_PROBLEMS[e.code] ?? "not YAML"}`,
  );
  if (second !== undefined) problems.push(`${at(second.range[0])}: ${YAML_PROBLEMS.MULTIPLE_DOCS}`);
  if (problems.length === 0)
    visit(doc, {
      Pair(_k, pair) {
        if (isScalar(pair.key) && typeof pair.key.value !== "string")
          problems.push(`${at(pair.key.range?.[0] ?? 0)}: a key that is not text (quote it)`);
      },
      Scalar(_k, node) {
        const problem = implicitTypeProblem(node);
        if (problem !== undefined) problems.push(`${at(node.range?.[0] ?? 0)}: ${problem}`);
      },
    });
  if (problems.length > 0) throw invalid(source, "YAML", problems);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch {
    throw invalid(source, "YAML", [`too many aliases (at most ${MAX_ALIASES})`]);
  }
}

const STR_TAG = "tag:yaml.org,2002:str";

// A plain scalar that YAML typed as something other than text, written other than that value prints.
function implicitTypeProblem(node: Scalar): string | undefined {
  if (node.tag !== undefined && node.tag !== STR_TAG) return "an explicit tag (only !!str is accepted)";
  if (node.type !== "PLAIN") return undefined;
  const written = node.source;
  const v = node.value;
  if (typeof v === "number") {
    if (!Number.isFinite(v) || String(v) !== written)
      return `a plain value YAML reads as the number ${String(v)}, not as written (quote it if it is text)`;
    if (!Number.isSafeInteger(v) && Number.isInteger(v))
      return "a number too large to keep exactly (quote it if it is text)";
  } else if (typeof v === "boolean") {
    if (written !== String(v))
      return `a plain value YAML reads as ${String(v)} (write ${String(v)}, or quote it)`;
  } else if (typeof v === "bigint") return "a number too large to keep exactly (quote it if it is text)";
  return undefined;
}

function parseJsonPolicy(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    // V8's message names the position and may quote the text around it: keep the position only.
    const m = /line (\d+) column (\d+)/.exec(String((cause as Error)?.message));
    const where = m === null ? "" : `line ${m[1]}, column ${m[2]}: `;
    throw new KeywardError(
      "ERR_POLICY_INVALID",
      `${source}: not valid JSON${m === null ? "" : ` at ${where.slice(0, -2)}`}`,
      {
        detail: { source, problems: [`${where}not valid JSON`] },
      },
    );
  }
  const duplicates = duplicateJsonKeys(text);
  if (duplicates.length > 0) throw invalid(source, "JSON", duplicates);
  return value;
}

/**
 * Every key given twice in one object of `text` (valid JSON), as "line L, column C: …".
 * A small scan over the text JSON.parse already accepted: strings, objects and arrays only.
 */
export function duplicateJsonKeys(text: string): string[] {
  const problems: string[] = [];
  // One frame per open object (its keys so far) or array (undefined).
  const stack: (Set<string> | undefined)[] = [];
  let expectKey = false;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(undefined);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== undefined;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      const keys = stack[stack.length - 1];
      if (expectKey && keys !== undefined) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) problems.push(`line ${line}, column ${start - lineStart + 1}: a key given twice`);
        keys.add(key);
        expectKey = false;
      }
    }
  }
  return problems;
}
