/**
 * The decoding step of a write, before any validation: the body must be an object of the kind the
 * URL names; it is checked against the OpenAPI schema; unknown fields are refused, reported or
 * dropped as the request's `fieldValidation` asks (Strict → 400, Warn → a `Warning` header,
 * Ignore → silently). The API server's default is Warn; `kubectl` and server-side apply send
 * Strict.
 *
 * @module
 */
import { type Obj, obj } from "./json.ts";
import { checkSchema } from "./openapi.ts";
import { apiVersionOf, type ResourceType } from "./resources.ts";
import type { KubeObject } from "./selectors.ts";
import { badRequest, invalid, type StatusCause } from "./status.ts";

/** How unknown fields are treated (the `fieldValidation` query parameter). */
export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** A decoded body. */
export interface Decoded {
  readonly object: KubeObject;
  readonly warnings: readonly string[];
  /** Missing required fields, reported with the other validation problems (422). */
  readonly requiredCauses: readonly StatusCause[];
}

/**
 * Decodes a request body as an object of type `t`.
 * @throws StatusError 400 when it is not such an object, a field has the wrong type or format, or
 *   (Strict) a field is unknown
 */
export function decode(t: ResourceType, body: unknown, fieldValidation: FieldValidation): Decoded {
  const o = obj(body);
  if (o === undefined)
    throw badRequest(`Object '${t.kind}' is missing in '${JSON.stringify(body)?.slice(0, 200)}'`);
  const apiVersion = apiVersionOf(t);
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersion)
    throw badRequest(
      `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  if (o.kind !== undefined && o.kind !== t.kind)
    throw badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${t.kind})`);
  const verdict = checkSchema(t, { ...o, apiVersion, kind: t.kind });
  const where = `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}`;
  if (verdict.decodeErrors.length > 0) throw badRequest(`${where}: ${verdict.decodeErrors.join("; ")}`);
  if (fieldValidation === "Strict" && verdict.unknownFields.length > 0)
    throw badRequest(
      `${where}: strict decoding error: ${verdict.unknownFields.map((f) => `unknown field "${f}"`).join(", ")}`,
    );
  const warnings = fieldValidation === "Warn" ? verdict.unknownFields.map((f) => `unknown field "${f}"`) : [];
  const object = verdict.pruned as Obj;
  object.metadata = obj(object.metadata) ?? {};
  return { object: object as KubeObject, warnings, requiredCauses: verdict.causes };
}

/** Throws 422 Invalid when there are causes. */
export function throwIfInvalid(t: ResourceType, name: string, causes: readonly StatusCause[]): void {
  if (causes.length > 0) throw invalid(t, name, causes);
}
