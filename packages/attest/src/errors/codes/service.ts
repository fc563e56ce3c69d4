/** Error codes of the service area: `ERR_...` → one-line description. */
export const serviceCodes = {
  ERR_SERVICE_CONFIG:
    "The service configuration is invalid (a flag, file or environment value names the problem).",
  ERR_SERVICE_MASTER_KEY: "The master key could not be read, created or unwrapped.",
  ERR_SERVICE_SECRET_NOT_FOUND: "No stored secret has the requested name (or version).",
  ERR_SERVICE_SECRET_INTEGRITY:
    "A stored secret failed authenticated decryption (wrong master key or edited row).",
  ERR_SERVICE_NOT_ATTESTED: "The caller presented no verified RA-TLS evidence.",
  ERR_SERVICE_DENIED: "No policy accepts the caller's evidence, or its policy grants no such secret.",
  ERR_SERVICE_SOURCE_UNSUPPORTED: "A policy grant names a secret source this service cannot read.",
  ERR_SERVICE_AUDIT_BROKEN: "The audit chain does not verify: an entry was edited, deleted or reordered.",
  ERR_SERVICE_CHALLENGE_INVALID:
    "A challenge nonce or token is unknown, already used or expired, or the report data does not bind them.",
  ERR_SERVICE_REQUEST_INVALID: "The request is malformed or too large.",
  ERR_SERVICE_POLICY_CONFLICT:
    "A stored policy has the id of a policy file (files win; put it under another id or edit the file).",
  ERR_SERVICE_NOT_FOUND: "The named policy, audit entry or key does not exist.",
  ERR_ADMIN_STEP_UP_REQUIRED:
    "An administrative change needs a second factor that was missing or not accepted.",
  ERR_ADMIN_UNAUTHENTICATED: "The Admin listener accepts only client certificates issued by its admin CA.",
} as const;
