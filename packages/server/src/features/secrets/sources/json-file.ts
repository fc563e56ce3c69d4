/**
 * A JSON file: `file:PATH#FIELD` is the string at top-level field FIELD of the JSON document at
 * PATH (read on each release, so an operator may replace the file).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { KeywardError } from "@keyward/attest/errors";
import type { SecretSource } from "./source.ts";

export const jsonFileSource: SecretSource = {
  scheme: "file",
  async read(ref) {
    const [path = "", field = ""] = ref.slice(5).split("#");
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, "utf8"));
    } catch (cause) {
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "JSON secret file unreadable", { cause });
    }
    const v = typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>)[field] : undefined;
    if (typeof v !== "string")
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no such field in JSON secret file");
    return { value: new TextEncoder().encode(v), version: 0 };
  },
};
