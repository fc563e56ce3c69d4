/**
 * The built-in store: `store:NAME` or a bare `NAME`, envelope-decrypted with the master key.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import { openSecret } from "../../../kernel/envelope.ts";
import type { SecretSource } from "./source.ts";

export const storeSource: SecretSource = {
  scheme: "store",
  async read(ref, { store, masterKey }) {
    const name = ref.startsWith("store:") ? ref.slice(6) : ref;
    const s = await store.getSecret(name);
    if (s === undefined)
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no stored secret for a granted name");
    return { value: openSecret(masterKey, s.name, s.version, s), version: s.version };
  },
};
