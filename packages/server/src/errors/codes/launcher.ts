/**
 * Error codes of the enclave launchers (licensing: one enclave per user, locally or on Kubernetes),
 * each with its one-line description and its gRPC status. Launcher failures are the service's own
 * condition (its cluster access), not the caller's fault.
 */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const launcherCodes = {
  ERR_LAUNCHER_CONFIG: {
    status: Code.FailedPrecondition,
    doc: "The launcher's configuration is invalid (image, namespace, resources, ids); detail names the field.",
  },
  ERR_LAUNCHER_UNAUTHENTICATED: {
    status: Code.FailedPrecondition,
    doc: "The orchestrator rejected the launcher's credentials (Kubernetes 401: an expired or wrong token).",
  },
  ERR_LAUNCHER_FORBIDDEN: {
    status: Code.FailedPrecondition,
    doc: "The launcher's identity lacks a permission (Kubernetes RBAC 403); detail names the verb, resource, API group and namespace to grant.",
  },
  ERR_LAUNCHER_NOT_FOUND: {
    status: Code.FailedPrecondition,
    doc: "The namespace or enclave the launcher addressed does not exist.",
  },
  ERR_LAUNCHER_CONFLICT: {
    status: Code.AlreadyExists,
    doc: "An enclave with the same name exists but belongs to another user, licence or launcher (it is not reused).",
  },
  ERR_LAUNCHER_INVALID_SPEC: {
    status: Code.FailedPrecondition,
    doc: "The orchestrator refused the enclave's specification (Kubernetes 400/422); detail lists the fields.",
  },
  ERR_LAUNCHER_START_FAILED: {
    status: Code.Unavailable,
    doc: "The enclave could not start: its image could not be pulled, it could not be scheduled, it failed or was deleted while starting.",
  },
  ERR_LAUNCHER_TIMEOUT: {
    status: Code.DeadlineExceeded,
    doc: "The enclave was not ready (or not gone) within the allowed time.",
  },
  ERR_LAUNCHER_UNAVAILABLE: {
    status: Code.Unavailable,
    doc: "The orchestrator could not be reached or answered with a server error.",
  },
} as const satisfies Readonly<Record<`ERR_LAUNCHER_${string}`, CodeSpec>>;
