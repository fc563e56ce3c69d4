/** `keyward serve`'s flags are the server's option table; the admin commands' store flags follow it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SERVICE_OPTIONS } from "@keyward/server";
import { STORE } from "../src/specs/common.ts";
import { serve } from "../src/specs/misc.ts";

describe("service flags", () => {
  it("gives keyward serve one flag per option of the server's table, --data-dir and --config", () => {
    assert.deepEqual(
      Object.keys(serve.options).sort(),
      ["config", "data-dir", ...SERVICE_OPTIONS.map((o) => o.flag)].sort(),
    );
    for (const o of SERVICE_OPTIONS)
      assert.equal((serve.options as Record<string, { type: string }>)[o.flag]?.type, o.kind, o.flag);
  });

  it("keeps the admin commands' store flags equal to the options marked store", () => {
    const store = SERVICE_OPTIONS.filter((o) => o.store === true).map((o) => o.flag);
    assert.deepEqual(
      Object.keys(STORE)
        .filter((f) => f !== "data-dir")
        .sort(),
      store.sort(),
    );
  });
});
