import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readinessProbe } from "./grpc-health.ts";

describe("readinessProbe", () => {
  it("is ready only while every check passes and the service is not draining", async () => {
    let failing = false;
    let draining = false;
    let runs = 0;
    const ready = readinessProbe({
      checks: [
        {
          name: "store",
          check: async () => {
            runs++;
            if (failing) throw new Error("down");
          },
        },
      ],
      draining: () => draining,
    });
    assert.equal(await ready(), true);
    // Within a second, probes share one result: the store is asked once.
    await Promise.all([ready(), ready(), ready()]);
    assert.equal(runs, 1);
    draining = true;
    assert.equal(await ready(), false);
    draining = false;
    failing = true;
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await ready(), false);
    assert.equal(runs, 2);
  });
});
