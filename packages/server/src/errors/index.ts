/**
 * The service's error catalogue and its mapping to gRPC/Connect statuses (`@keyward/server/errors`).
 *
 * @module
 */
export { isServiceErrorCode, type ServiceErrorCode, serviceCatalogue } from "./catalogue.ts";
export { fromConnectError, isKnownErrorCode, toConnectError } from "./connect.ts";
export { ALL_ERROR_DOCS } from "./docs.ts";
export type { CodeSpec } from "./spec.ts";
export { STATUS, statusOf } from "./status.ts";
