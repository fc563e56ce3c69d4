/**
 * Failures as the API server reports them: a `Status` object (`kind: Status`, `status: Failure`)
 * with the HTTP code, a machine-readable `reason` and `details`. Messages follow the API server's
 * wording (k8s.io/apimachinery/pkg/api/errors) because clients and operators match on them.
 *
 * @module
 */
import { qualifiedKind, qualifiedResource, type ResourceType } from "./resources.ts";

/** One field-level problem of an Invalid (422) answer. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

/** The `Status` object written in an error answer or a watch ERROR event. */
export interface StatusObject {
  readonly kind: "Status";
  readonly apiVersion: "v1";
  readonly metadata: Record<string, never>;
  readonly status: "Failure";
  readonly message: string;
  readonly reason: string;
  readonly details?: {
    readonly name?: string;
    readonly group?: string;
    readonly kind?: string;
    readonly causes?: readonly StatusCause[];
  };
  readonly code: number;
}

/** An error the server answers with a Status object. */
export class StatusError extends Error {
  readonly status: StatusObject;
  constructor(code: number, reason: string, message: string, details?: StatusObject["details"]) {
    super(message);
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details === undefined ? {} : { details }),
      code,
    };
  }
}

const detailsOf = (t: ResourceType, name?: string): StatusObject["details"] => ({
  ...(name === undefined || name === "" ? {} : { name }),
  ...(t.group === "" ? {} : { group: t.group }),
  kind: t.plural,
});

const named = (t: ResourceType, name?: string): string =>
  name === undefined || name === "" ? qualifiedResource(t) : `${qualifiedResource(t)} "${name}"`;

/** 404 NotFound: `pods "x" not found`. */
export function notFound(t: ResourceType, name: string): StatusError {
  return new StatusError(404, "NotFound", `${named(t, name)} not found`, detailsOf(t, name));
}

/** 409 AlreadyExists: `pods "x" already exists`. */
export function alreadyExists(t: ResourceType, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${named(t, name)} already exists`, detailsOf(t, name));
}

/** 409 Conflict: an update or a precondition names a stale resourceVersion or another uid. */
export function conflict(t: ResourceType, name: string, why: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${named(t, name)}: ${why}`,
    detailsOf(t, name),
  );
}

/** 422 Invalid with one cause per problem: `Pod "x" is invalid: [a: Required value, b: ...]`. */
export function invalid(t: ResourceType, name: string, causes: readonly StatusCause[]): StatusError {
  const listed = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`));
  const text = listed.length === 1 ? (listed[0] as string) : `[${listed.join(", ")}]`;
  return new StatusError(422, "Invalid", `${qualifiedKind(t)} "${name}" is invalid: ${text}`, {
    name,
    ...(t.group === "" ? {} : { group: t.group }),
    kind: t.kind,
    causes,
  });
}

/** 403 Forbidden: RBAC denied the request, or the namespace is terminating. */
export function forbidden(t: ResourceType, name: string | undefined, why: string): StatusError {
  return new StatusError(403, "Forbidden", `${named(t, name)} is forbidden: ${why}`, detailsOf(t, name));
}

/** 400 BadRequest. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

/** 410 Expired: a watch or list asked for a resourceVersion older than the kept history. */
export function expired(message: string): StatusError {
  return new StatusError(410, "Expired", message);
}

/** 401 Unauthorized: no bearer token, or one the server does not know. */
export function unauthorized(): StatusError {
  return new StatusError(401, "Unauthorized", "Unauthorized");
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(method: string): StatusError {
  return new StatusError(
    405,
    "MethodNotAllowed",
    `the server does not allow this method on the requested resource (${method})`,
  );
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(type: string): StatusError {
  return new StatusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got ${type})`,
  );
}

/** A cause helper: `Required value`. */
export const required = (field: string, detail?: string): StatusCause => ({
  reason: "FieldValueRequired",
  message: detail === undefined ? "Required value" : `Required value: ${detail}`,
  field,
});

/** A cause helper: `Invalid value: "v": why`. */
export const invalidValue = (field: string, value: unknown, why: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  field,
});

/** A cause helper: `Unsupported value: "v": supported values: "a", "b"`. */
export const unsupported = (field: string, value: unknown, supported: readonly string[]): StatusCause => ({
  reason: "FieldValueNotSupported",
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
  field,
});

/** A cause helper: `Duplicate value: "v"`. */
export const duplicate = (field: string, value: unknown): StatusCause => ({
  reason: "FieldValueDuplicate",
  message: `Duplicate value: ${JSON.stringify(value)}`,
  field,
});

/** A cause helper: `Not found: "v"` (a reference to something that does not exist in the object). */
export const notFoundValue = (field: string, value: unknown): StatusCause => ({
  reason: "FieldValueNotFound",
  message: `Not found: ${JSON.stringify(value)}`,
  field,
});

/** A cause helper: `Forbidden: why` (a field that may not be set or changed). */
export const forbiddenField = (field: string, why: string): StatusCause => ({
  reason: "FieldValueForbidden",
  message: `Forbidden: ${why}`,
  field,
});
