/**
 * Kubernetes API failures as launcher errors. The API server answers with a `Status` object (code,
 * reason, message, details); `@kubernetes/client-node` raises it as an `ApiException` whose body is
 * that Status. A 403 names the missing permission in its message ("User X cannot VERB resource R in
 * API group G in the namespace NS"); the launcher's error says which grant to add.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { ApiException } from "@kubernetes/client-node";

/** The HTTP status and Status object of a failed call, or undefined when it was not an API answer. */
export interface ApiFailure {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly causes: readonly { field?: string; message?: string }[];
}

/** Reads an ApiException (or a watch's ERROR Status, or an HTTP error from a watch) as an ApiFailure. */
export function apiFailureOf(e: unknown): ApiFailure | undefined {
  if (e instanceof ApiException) return fromStatus(e.code, e.body);
  const code = (e as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof code === "number") return fromStatus(code, undefined);
  return undefined;
}

/** An ApiFailure from a Status object (a watch ERROR event's object). */
export function fromStatus(code: number, body: unknown): ApiFailure {
  let status: Record<string, unknown> = {};
  try {
    status = (typeof body === "string" ? JSON.parse(body) : body) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the HTTP code says enough.
  }
  const details = (status?.details ?? {}) as { causes?: { field?: string; message?: string }[] };
  return {
    code: typeof status?.code === "number" ? status.code : code,
    reason: typeof status?.reason === "string" ? status.reason : "",
    message: typeof status?.message === "string" ? status.message : `HTTP ${code}`,
    causes: Array.isArray(details.causes) ? details.causes : [],
  };
}

/** What the launcher was doing, for the error to name. */
export interface Attempt {
  readonly verb: "create" | "get" | "list" | "watch" | "delete";
  readonly resource: string;
  readonly namespace: string;
  readonly apiGroup?: string;
}

/**
 * The launcher error for a failed Kubernetes call.
 * @returns ERR_LAUNCHER_FORBIDDEN (403), _UNAUTHENTICATED (401), _NOT_FOUND (404), _CONFLICT (409),
 *   _INVALID_SPEC (400, 422), _UNAVAILABLE (anything else: 5xx, network)
 */
export function launcherError(e: unknown, a: Attempt): KeywardError {
  if (e instanceof KeywardError) return e;
  const f = apiFailureOf(e);
  const group = a.apiGroup ?? "";
  if (f === undefined)
    return new KeywardError(
      "ERR_LAUNCHER_UNAVAILABLE",
      `the Kubernetes API could not be reached to ${a.verb} ${a.resource}: ${(e as Error)?.message ?? String(e)}`,
      { cause: e, detail: { ...a } },
    );
  const detail = { ...a, apiGroup: group, status: f.code, reason: f.reason };
  switch (f.code) {
    case 401:
      return new KeywardError(
        "ERR_LAUNCHER_UNAUTHENTICATED",
        `the Kubernetes API rejected the launcher's credentials (401 ${f.reason}); check its kubeconfig or service account token`,
        { cause: e, detail },
      );
    case 403:
      return new KeywardError(
        "ERR_LAUNCHER_FORBIDDEN",
        `RBAC forbids the launcher to ${a.verb} ${a.resource} in namespace ${a.namespace}: grant verb "${a.verb}" on resource "${a.resource}" (apiGroups: ["${group}"]) in a Role bound to its service account (API server: ${f.message})`,
        { cause: e, detail },
      );
    case 404:
      return new KeywardError(
        "ERR_LAUNCHER_NOT_FOUND",
        `${f.message} (while trying to ${a.verb} ${a.resource} in namespace ${a.namespace})`,
        { cause: e, detail },
      );
    case 409:
      return new KeywardError("ERR_LAUNCHER_CONFLICT", f.message, { cause: e, detail });
    case 400:
    case 422:
      return new KeywardError(
        "ERR_LAUNCHER_INVALID_SPEC",
        `the Kubernetes API refused the enclave's ${a.resource}: ${f.message}`,
        {
          cause: e,
          detail: { ...detail, fields: f.causes.map((c) => c.field ?? "") },
        },
      );
    default:
      return new KeywardError(
        "ERR_LAUNCHER_UNAVAILABLE",
        `the Kubernetes API failed to ${a.verb} ${a.resource}: ${f.code} ${f.message}`,
        { cause: e, detail },
      );
  }
}
