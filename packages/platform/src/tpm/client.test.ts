import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeywardError } from "@keyward/attest/errors";
import fc from "fast-check";
import { describeRc, TPM_RH, TpmClient } from "./client.ts";
import type { TpmTransport } from "./transport.ts";
import { openTpmTransport } from "./transport.ts";

/** A transport that answers every command with the given responses, in turn. */
function scripted(...responses: Uint8Array[]): TpmTransport & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  let i = 0;
  return {
    sent,
    async send(command) {
      sent.push(command);
      const r = responses[Math.min(i, responses.length - 1)];
      i++;
      return r ?? new Uint8Array();
    },
    close() {},
  };
}
const header = (tag: number, size: number, rc: number) =>
  Uint8Array.of(
    tag >> 8,
    tag & 0xff,
    size >>> 24,
    (size >> 16) & 0xff,
    (size >> 8) & 0xff,
    size & 0xff,
    rc >>> 24,
    (rc >> 16) & 0xff,
    (rc >> 8) & 0xff,
    rc & 0xff,
  );

// A real-shaped Quote response: header, parameterSize, TPM2B_ATTEST, TPMT_SIGNATURE, auth area.
const attest = Uint8Array.of(0xff, 0x54, 0x43, 0x47, 0x80, 0x18);
const sig = Uint8Array.of(0, 0x18, 0, 0x0b, 0, 1, 7, 0, 1, 8);
const params = Uint8Array.of(0, attest.length, ...attest, ...sig);
const quoteResponse = Uint8Array.of(
  ...header(0x8002, 10 + 4 + params.length + 5, 0),
  0,
  0,
  0,
  params.length,
  ...params,
  0,
  0,
  1,
  0,
  0,
);

describe("TpmClient marshalling and response handling", () => {
  it("marshals a Quote with a password session and parses its response", async () => {
    const t = scripted(quoteResponse);
    const q = await new TpmClient(t).quote(0x80000001, Uint8Array.of(1, 2, 3), [{ hash: 0x0b, pcrs: [23] }]);
    assert.deepEqual(q.attest, attest);
    assert.deepEqual(q.signature, sig);
    const cmd = t.sent[0] ?? new Uint8Array();
    assert.deepEqual([...cmd.subarray(0, 2)], [0x80, 0x02]); // sessions
    assert.equal(Buffer.from(cmd).readUInt32BE(2), cmd.length);
    assert.equal(Buffer.from(cmd).readUInt32BE(6), 0x158); // TPM_CC_Quote
    assert.equal(Buffer.from(cmd).readUInt32BE(10), 0x80000001);
    assert.equal(Buffer.from(cmd).readUInt32BE(18), TPM_RH.PW);
  });

  it("retries TPM_RC_RETRY and reports other codes with their name", async () => {
    const retry = header(0x8001, 10, 0x922);
    const t = scripted(retry, retry, quoteResponse);
    await new TpmClient(t).quote(0x80000001, new Uint8Array(), [{ hash: 0x0b, pcrs: [23] }]);
    assert.equal(t.sent.length, 3);
    await assert.rejects(new TpmClient(scripted(header(0x8001, 10, 0x907))).pcrReset(10), (e: unknown) => {
      return (
        e instanceof KeywardError &&
        e.code === "ERR_TPM_RESPONSE" &&
        e.detail?.rc === "0x907" &&
        /LOCALITY/.test(e.message)
      );
    });
  });

  it("names response codes and what they are about (Part 2 §6.6)", () => {
    assert.equal(describeRc(0xa9d), "TPM_RC_POLICY_FAIL on session 2 (0xa9d)");
    assert.equal(describeRc(0x1df), "TPM_RC_INTEGRITY on parameter 1 (0x1df)");
    assert.equal(describeRc(0x18b), "TPM_RC_HANDLE on handle 1 (0x18b)");
    assert.equal(describeRc(0x902), "TPM_RC_OBJECT_MEMORY (0x902)");
    assert.equal(describeRc(0x101), "TPM_RC_FAILURE (0x101)");
    assert.equal(describeRc(0x7777), "0x7777");
  });

  it("refuses a response whose size field disagrees with what arrived", async () => {
    const bad = Uint8Array.of(...header(0x8001, 12, 0), 0, 0, 0);
    await assert.rejects(new TpmClient(scripted(bad)).pcrReset(16), { code: "ERR_TPM_TRANSPORT" });
  });

  it("parses TPM URIs, and reports an absent device as a transport error", async () => {
    assert.throws(() => openTpmTransport("ftp://x"), { code: "ERR_USAGE" });
    assert.throws(() => openTpmTransport("tcp://127.0.0.1:65535"), { code: "ERR_USAGE" });
    openTpmTransport("tcp://[::1]:2321").close();
    const dev = TpmClient.open("device:/nonexistent/tpmrm0");
    await assert.rejects(dev.startup(), { code: "ERR_TPM_TRANSPORT" });
    dev.close();
  });

  it("treats Startup's TPM_RC_INITIALIZE as already started", async () => {
    await new TpmClient(scripted(header(0x8001, 10, 0x100))).startup();
  });

  it("throws nothing but KeywardError for mutated or truncated responses", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(quoteResponse.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(quoteResponse.length),
        async (at, value, cut) => {
          const bad = quoteResponse.slice(0, Math.max(cut, 1));
          if (at < bad.length) bad[at] = value;
          try {
            await new TpmClient(scripted(bad)).quote(0x80000001, new Uint8Array(), [
              { hash: 0x0b, pcrs: [23] },
            ]);
          } catch (e) {
            if (!(e instanceof KeywardError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
