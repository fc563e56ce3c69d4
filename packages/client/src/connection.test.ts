import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { KeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { addressOf } from "./connection.ts";
import { headersOf } from "./otp.ts";
import { isTransient, withRetry } from "./retry.ts";

describe("addressOf", () => {
  it("reads host:port and [IPv6]:port", () => {
    assert.deepEqual(addressOf("keyward.internal:7443"), { host: "keyward.internal", port: 7443 });
    assert.deepEqual(addressOf("[::1]:443"), { host: "::1", port: 443 });
    assert.deepEqual(addressOf({ host: "127.0.0.1", port: 1 }), { host: "127.0.0.1", port: 1 });
  });

  it("refuses anything else with ERR_USAGE", () => {
    for (const bad of ["", "host", "host:", ":80", "host:0", "host:65536", "host:80:81", "::1:443", "h:8a"])
      assert.throws(() => addressOf(bad), { code: "ERR_USAGE" }, bad);
  });

  it("never throws anything but ERR_USAGE, and a result is always a valid port", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          const a = addressOf(s);
          assert.ok(Number.isInteger(a.port) && a.port >= 1 && a.port <= 65535 && a.host.length > 0);
        } catch (e) {
          assert.equal((e as KeywardError).code, "ERR_USAGE");
        }
      }),
    );
  });
});

describe("one-time codes", () => {
  it("go in the keyward-otp header; malformed accounts or codes are refused", () => {
    assert.deepEqual(headersOf({ account: "release-approver", code: "123456" }), {
      headers: { "keyward-otp": "release-approver:123456" },
    });
    assert.equal(headersOf(undefined), undefined);
    for (const [account, code] of [
      ["a:b", "123456"],
      ["a\nb", "123456"],
      ["ok", "12345"],
      ["ok", "12345a"],
      ["", "123456"],
    ])
      assert.throws(() => headersOf({ account: account ?? "", code: code ?? "" }), { code: "ERR_USAGE" });
  });
});

describe("retries", () => {
  it("count only connection failures and UNAVAILABLE as transient", () => {
    assert.equal(isTransient(new ConnectError("down", Code.Unavailable)), true);
    assert.equal(isTransient(new KeywardError("ERR_IO", "cannot connect")), true);
    assert.equal(isTransient(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), true);
    assert.equal(isTransient(new ConnectError("ERR_SERVICE_DENIED: no", Code.PermissionDenied)), false);
    assert.equal(isTransient(new ConnectError("ERR_OTP_LOCKED: wait", Code.ResourceExhausted)), false);
    assert.equal(isTransient(new KeywardError("ERR_RATLS_POLICY_REJECTED", "not the service")), false);
  });

  it("stop at the first non-transient failure, and after the attempts", async () => {
    let n = 0;
    await assert.rejects(
      withRetry(async () => {
        n++;
        throw new KeywardError("ERR_RATLS_POLICY_REJECTED", "no");
      }),
    );
    assert.equal(n, 1);
    n = 0;
    await assert.rejects(
      withRetry(
        async () => {
          n++;
          throw new KeywardError("ERR_IO", "down");
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
    );
    assert.equal(n, 3);
    n = 0;
    assert.equal(
      await withRetry(
        async () => {
          if (++n < 2) throw new ConnectError("down", Code.Unavailable);
          return "up";
        },
        { baseDelayMs: 1 },
      ),
      "up",
    );
  });
});
