/** Error codes of the service area, each with its one-line description and its gRPC status. */
import { Code } from "@connectrpc/connect";
import type { CodeSpec } from "../spec.ts";

export const serviceCodes = {
  ERR_SERVICE_CONFIG: {
    status: Code.FailedPrecondition,
    doc: "The service configuration is invalid (a flag, file or environment value names the problem).",
  },
  ERR_SERVICE_SCHEMA_NEWER: {
    status: Code.FailedPrecondition,
    doc: "The database was written by a newer Keyward (a schema version this release does not know): run that release, or restore a backup made by this one.",
  },
  ERR_SERVICE_BACKUP: {
    status: Code.FailedPrecondition,
    doc: "A backup or restore could not be made (the target exists or is not empty, the backup is unreadable, pg_dump or pg_restore failed).",
  },
  ERR_SERVICE_MASTER_KEY: {
    status: Code.FailedPrecondition,
    doc: "The master key could not be read, created or unwrapped.",
  },
  ERR_SERVICE_SECRET_NOT_FOUND: {
    status: Code.NotFound,
    doc: "No stored secret has the requested name (or version).",
  },
  ERR_SERVICE_SECRET_INTEGRITY: {
    status: Code.DataLoss,
    doc: "A stored secret failed authenticated decryption (wrong master key or edited row).",
  },
  ERR_SERVICE_NOT_ATTESTED: {
    status: Code.Unauthenticated,
    doc: "The caller presented no verified RA-TLS evidence.",
  },
  ERR_SERVICE_DENIED: {
    status: Code.PermissionDenied,
    doc: "No policy accepts the caller's evidence, or its policy grants no such secret.",
  },
  ERR_SERVICE_SOURCE_UNSUPPORTED: {
    status: Code.FailedPrecondition,
    doc: "A policy grant names a secret source this service cannot read.",
  },
  ERR_SERVICE_AUDIT_BROKEN: {
    status: Code.DataLoss,
    doc: "The audit chain does not verify: an entry was edited, deleted or reordered.",
  },
  ERR_SERVICE_CHALLENGE_INVALID: {
    status: Code.Unauthenticated,
    doc: "A challenge nonce or token is unknown, already used or expired, or the report data does not bind them.",
  },
  ERR_SERVICE_REQUEST_INVALID: {
    status: Code.InvalidArgument,
    doc: "The request is malformed or too large.",
  },
  ERR_SERVICE_POLICY_CONFLICT: {
    status: Code.AlreadyExists,
    doc: "A stored policy has the id of a policy file (files win; put it under another id or edit the file).",
  },
  ERR_SERVICE_NOT_FOUND: {
    status: Code.NotFound,
    doc: "The named policy, audit entry or key does not exist.",
  },
  ERR_SERVICE_SHUTTING_DOWN: {
    status: Code.Unavailable,
    doc: "The service is shutting down and did nothing with this request: retry it (on another replica).",
  },
} as const satisfies Readonly<Record<`ERR_SERVICE_${string}`, CodeSpec>>;
