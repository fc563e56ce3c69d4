export type { ErrorCode, ExtraErrorCodes, LibraryErrorCode } from "./codes.ts";
export { errorDocs, isErrorCode } from "./codes.ts";
export type { KeywardErrorOptions } from "./keyward-error.ts";
export { isKeywardError, KeywardError } from "./keyward-error.ts";
