/** The option table: read once, every problem listed at once, features' options in it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeywardError } from "@keyward/attest/errors";
import { VAULT_ADDR } from "../../src/features/secrets/sources/vault.ts";
import { loadServiceConfig } from "../../src/main.ts";
import { defineOption, parsers, readOptions } from "../../src/ops/options.ts";

describe("options", () => {
  it("lists every problem of a configuration at once", () => {
    try {
      loadServiceConfig(
        "/d",
        { listen: "nope", attester: "sgx-sdk" },
        { KEYWARD_PCCS_URL: "ftp://x", KEYWARD_VAULT_ADDR: "vault" },
      );
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof KeywardError);
      assert.equal(e.code, "ERR_SERVICE_CONFIG");
      const problems = e.detail?.problems as string[];
      for (const name of [
        "--listen/KEYWARD_LISTEN",
        "--attester/",
        "--pccs-url/",
        "--vault-addr/KEYWARD_VAULT_ADDR",
      ])
        assert.ok(
          problems.some((p) => p.startsWith(name)),
          `${name} in ${problems.join(" | ")}`,
        );
    }
  });

  it("reads a feature's option by flag name, key or environment, flags first", () => {
    assert.equal(loadServiceConfig("/d", {}, {}).options.get(VAULT_ADDR), undefined);
    const byEnv = loadServiceConfig("/d", {}, { KEYWARD_VAULT_ADDR: "http://env:8200" });
    assert.equal(byEnv.options.get(VAULT_ADDR), "http://env:8200");
    assert.equal(byEnv.options.source(VAULT_ADDR), "env");
    const byFlag = loadServiceConfig(
      "/d",
      { "vault-addr": "https://flag:8200" },
      { KEYWARD_VAULT_ADDR: "http://env" },
    );
    assert.equal(byFlag.options.get(VAULT_ADDR), "https://flag:8200");
    assert.equal(
      loadServiceConfig("/d", { vaultAddr: "https://key:8200" }, {}).options.get(VAULT_ADDR),
      "https://key:8200",
    );
  });

  it("refuses a table where two options share a flag, variable or key", () => {
    const a = defineOption({
      key: "a",
      flag: "same",
      env: "KEYWARD_A",
      kind: "string",
      doc: "",
      defaultDoc: "",
      parse: parsers.text,
      fallback: () => "",
    });
    const b = defineOption({ ...a, key: "b", env: "KEYWARD_B" });
    assert.throws(
      () => readOptions([a, b], { dataDir: "/d", flags: {}, env: {} }),
      /two options have the flag "same"/,
    );
  });
});
