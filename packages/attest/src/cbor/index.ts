export type { CborTag, CborValue } from "./cbor.ts";
export { decodeCbor, encodeCbor, isCborTag } from "./cbor.ts";
