import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../ops/logs.ts";
import { Metrics } from "../ops/metrics.ts";
import { Drain } from "./drain.ts";
import { requestObserver } from "./requests.ts";

describe("draining", () => {
  it("admits until it drains, then waits for those in flight", async () => {
    const d = new Drain();
    assert.ok(d.enter());
    assert.ok(d.enter());
    let settled: number | undefined;
    const done = d.begin(60_000).then((left) => {
      settled = left;
    });
    assert.equal(d.enter(), false);
    d.leave();
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, undefined); // one still in flight
    d.leave();
    await done;
    assert.equal(settled, 0);
  });

  it("gives up after the grace period and says how many were left", async () => {
    const d = new Drain();
    d.enter();
    assert.equal(await d.begin(20), 1);
    assert.equal(await new Drain().begin(60_000), 0); // nothing in flight: at once
  });

  it("refuses a request that arrives while draining before running it, with ERR_SERVICE_SHUTTING_DOWN", async () => {
    const lines: string[] = [];
    const logger = createLogger(
      new Writable({
        write: (c, _e, cb) => {
          lines.push(String(c));
          cb();
        },
      }),
    );
    const d = new Drain();
    const requests = requestObserver(logger, new Metrics(), d);
    assert.equal(await requests.observe({ listener: "service", method: "m" }, async () => 1), 1);
    assert.equal(d.inFlight, 0);
    await d.begin(1000);
    let ran = false;
    await assert.rejects(
      requests.observe({ listener: "service", method: "m" }, async () => {
        ran = true;
      }),
      { code: "ERR_SERVICE_SHUTTING_DOWN" },
    );
    assert.equal(ran, false);
    assert.match(lines.at(-1) ?? "", /"code":"ERR_SERVICE_SHUTTING_DOWN"/);
  });
});
