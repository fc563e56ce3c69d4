/**
 * The PATCH bodies the contract server applies: JSON merge patch (RFC 7386,
 * `application/merge-patch+json`) and JSON patch (RFC 6902, `application/json-patch+json`).
 * Strategic merge patch is not modelled (its list-merge keys come from Go struct tags); the server
 * answers 415 for it rather than merge lists wrongly.
 *
 * @module
 */
import { clone, jsonEqual, obj } from "./json.ts";
import { badRequest, StatusError } from "./status.ts";

/** RFC 7386 §2: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  const p = obj(patch);
  if (p === undefined) return clone(patch);
  const out: Record<string, unknown> = { ...(obj(target) ?? {}) };
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

/**
 * RFC 6902: applies the operations in order to a copy of `target`.
 * @throws StatusError 422 when a `test` fails or a path does not exist (as the API server does),
 *   400 when the patch is malformed
 */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest("json patch must be an array of operations");
  let doc = clone(target);
  for (const raw of operations) {
    const op = obj(raw) as Operation | undefined;
    if (op === undefined || typeof op.op !== "string" || typeof op.path !== "string")
      throw badRequest("json patch operation must have 'op' and 'path'");
    switch (op.op) {
      case "add":
        doc = put(doc, op.path, clone(op.value), "add");
        break;
      case "replace":
        get(doc, op.path);
        doc = put(doc, op.path, clone(op.value), "replace");
        break;
      case "remove":
        doc = del(doc, op.path);
        break;
      case "move": {
        const v = get(doc, op.from ?? "");
        doc = put(del(doc, op.from ?? ""), op.path, v, "add");
        break;
      }
      case "copy":
        doc = put(doc, op.path, clone(get(doc, op.from ?? "")), "add");
        break;
      case "test":
        if (!jsonEqual(get(doc, op.path), op.value)) throw unprocessable(`testing value ${op.path} failed`);
        break;
      default:
        throw badRequest(`json patch: unknown operation "${op.op}"`);
    }
  }
  return doc;
}

function unprocessable(message: string): StatusError {
  return new StatusError(
    422,
    "Invalid",
    `the server rejected our request due to an error in our request: ${message}`,
  );
}

function tokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw badRequest(`json patch: invalid path "${pointer}"`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function get(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const t of tokens(pointer)) {
    if (Array.isArray(cur) && /^\d+$/.test(t) && Number(t) < cur.length) cur = cur[Number(t)];
    else if (obj(cur) !== undefined && Object.hasOwn(cur as object, t))
      cur = (cur as Record<string, unknown>)[t];
    else throw unprocessable(`path ${pointer} does not exist`);
  }
  return cur;
}

function parentOf(doc: unknown, pointer: string): [unknown, string] {
  const ts = tokens(pointer);
  const last = ts.pop();
  if (last === undefined) return [undefined, ""];
  const parent = get(doc, ts.map((t) => `/${t.replaceAll("~", "~0").replaceAll("/", "~1")}`).join(""));
  return [parent, last];
}

function put(doc: unknown, pointer: string, value: unknown, mode: "add" | "replace"): unknown {
  const [parent, last] = parentOf(doc, pointer);
  if (pointer === "") return value;
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length)
      throw unprocessable(`path ${pointer} does not exist`);
    if (mode === "add") parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (obj(parent) !== undefined) (parent as Record<string, unknown>)[last] = value;
  else throw unprocessable(`path ${pointer} does not exist`);
  return doc;
}

function del(doc: unknown, pointer: string): unknown {
  get(doc, pointer);
  const [parent, last] = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, unknown>)[last];
  return doc;
}
