export { ByteReader } from "./byte-reader.ts";
export { bytesEqual, concatBytes, isAllZero } from "./equal.ts";
export { fromHex, toHex } from "./hex.ts";
