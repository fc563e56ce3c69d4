export type { InputKind } from "./limits.ts";
export { INPUT_LIMITS } from "./limits.ts";
export type { ReadOptions } from "./read-file.ts";
export {
  readFileBounded,
  readFileBoundedAsync,
  readFileChunks,
  readTextBounded,
  readTextBoundedAsync,
} from "./read-file.ts";
