/**
 * Validation of written objects against the Kubernetes OpenAPI v2 definitions of one release
 * (`openapi/definitions.json`, a subset of that release's `api/openapi-spec/swagger.json`; its
 * `x-keyward-source` says which), with Ajv.
 *
 * The API server decodes a body before it validates it, and the two fail differently: a field of
 * the wrong type, a malformed quantity or time, or (with `fieldValidation=Strict`, as `kubectl` and
 * server-side apply send) an unknown field is a decoding error, answered 400 BadRequest; a missing
 * required field is a validation error, answered 422 Invalid. {@link checkSchema} keeps that split.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { ResourceType } from "./resources.ts";
import { required, type StatusCause } from "./status.ts";

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  format?: string;
  [keyword: string]: unknown;
}

const file = JSON.parse(readFileSync(join(import.meta.dirname, "openapi", "definitions.json"), "utf8")) as {
  "x-keyward-source": { release: string };
  definitions: Record<string, Schema>;
};

/** The Kubernetes release whose OpenAPI definitions objects are validated against. */
export const OPENAPI_RELEASE: string = file["x-keyward-source"].release;

const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

// Two definitions are written as "type: string" with a custom format in v2, but their JSON form
// accepts numbers too (`cpu: 1`, `port: 8080`): state that in JSON Schema.
const definitions: Record<string, Schema> = {
  ...file.definitions,
  [QUANTITY]: { type: ["string", "number"], format: "quantity" },
  [INT_OR_STRING]: { type: ["integer", "string"] },
};

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
// resource.Quantity's serialization grammar (its API documentation): signed number, then a binary
// SI suffix, a decimal SI suffix or a decimal exponent.
ajv.addFormat("quantity", /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/);
ajv.addFormat("int32", {
  type: "number",
  validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
});
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat("double", { type: "number", validate: (n: number) => Number.isFinite(n) });
ajv.addFormat("byte", /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
// metav1.Time is RFC 3339 in UTC or with an offset.
ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addSchema({ $id: "k8s", definitions }, "k8s");

const compiled = new Map<string, ValidateFunction>();
function validatorFor(definition: string): ValidateFunction {
  let v = compiled.get(definition);
  if (v === undefined) {
    v = ajv.getSchema(`k8s#/definitions/${definition}`);
    if (v === undefined) throw new Error(`no OpenAPI definition ${definition}`);
    compiled.set(definition, v);
  }
  return v;
}

/** What {@link checkSchema} found. */
export interface SchemaVerdict {
  /** The object without unknown fields (the API server drops them when it does not refuse them). */
  readonly pruned: Record<string, unknown>;
  /** Paths of fields the schema does not know (`spec.template.spec.containers[0].imagePullPolcy`). */
  readonly unknownFields: readonly string[];
  /** Decoding errors (wrong type, bad quantity, time or integer): a 400 when non-empty. */
  readonly decodeErrors: readonly string[];
  /** Required fields that are missing: a 422 when non-empty. */
  readonly causes: readonly StatusCause[];
}

/** Checks `object` against the OpenAPI definition of its kind. */
export function checkSchema(t: ResourceType, object: Record<string, unknown>): SchemaVerdict {
  const unknownFields: string[] = [];
  const pruned = prune(object, { $ref: `#/definitions/${t.definition}` }, "", unknownFields) as Record<
    string,
    unknown
  >;
  const validate = validatorFor(t.definition);
  const decodeErrors: string[] = [];
  const causes: StatusCause[] = [];
  if (!validate(pruned)) {
    for (const e of validate.errors ?? []) {
      if (e.keyword === "required") {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        causes.push(required(fieldPath(`${e.instancePath}/${missing}`)));
      } else if (e.keyword !== "anyOf" && e.keyword !== "if") decodeErrors.push(describe(e));
    }
  }
  return { pruned, unknownFields, decodeErrors: [...new Set(decodeErrors)], causes };
}

function describe(e: ErrorObject): string {
  const at = fieldPath(e.instancePath) || "(root)";
  if (e.keyword === "type") return `${at}: expected ${String((e.params as { type: unknown }).type)}`;
  if (e.keyword === "format") return `${at}: not a valid ${(e.params as { format: string }).format}`;
  return `${at}: ${e.message ?? e.keyword}`;
}

/** JSON Pointer → the API's field path: `/spec/containers/0/name` → `spec.containers[0].name`. */
export function fieldPath(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${seg}]`;
  }
  return out;
}

function resolve(s: Schema): Schema {
  let cur = s;
  while (cur.$ref !== undefined) {
    const name = cur.$ref.replace("#/definitions/", "");
    const next = definitions[name];
    if (next === undefined) throw new Error(`no OpenAPI definition ${name}`);
    cur = next;
  }
  return cur;
}

// Returns a copy of `value` without the fields `schema` does not declare, recording their paths.
function prune(value: unknown, schema: Schema, path: string, unknown: string[]): unknown {
  const s = resolve(schema);
  if (Array.isArray(value))
    return s.items === undefined
      ? value
      : value.map((v, i) => prune(v, s.items as Schema, `${path}[${i}]`, unknown));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (s.properties !== undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const p = path === "" ? k : `${path}.${k}`;
      const ps = s.properties[k];
      if (ps === undefined) unknown.push(p);
      else out[k] = prune(v, ps, p, unknown);
    }
    return out;
  }
  if (typeof s.additionalProperties === "object") {
    const as = s.additionalProperties;
    return Object.fromEntries(entries.map(([k, v]) => [k, prune(v, as, `${path}[${k}]`, unknown)]));
  }
  return value;
}
