/**
 * Evidence that does not parse never reaches a caller as INTERNAL: prefixes of real hardware quotes
 * (SGX v3, TDX v4 and v5 from the attest vectors, see their MANIFEST) and of a simulated quote
 * bound to the nonce, sent to ChallengeService.Attest over the challenge listener, are refused
 * with INVALID_ARGUMENT or UNAUTHENTICATED; and so is every prefix of each through both trust
 * modes' quote paths (hardware mode looks collateral up for the quote's FMSPC before verifying).
 */
import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, dcapQuoteLength, parseCollateralJson } from "@keyward/attest/dcap";
import { isKeywardError } from "@keyward/attest/errors";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import { ChallengeService } from "@keyward/proto/keyward/v1";
import { statusOf } from "../../src/errors/status.ts";
import { challengeReportData } from "../../src/features/secrets/challenge.ts";
import { hardwareQuoteTrust, SIM_SERVICE_MEASUREMENT, simulationQuoteTrust } from "../../src/kernel/trust.ts";
import { hex, mr, seedPolicy, startFixture } from "./helpers.ts";

const VECTORS = new URL("../../../attest/test/vectors/dcap/", import.meta.url);
// Real TDX quotes carry zero padding after the signature data (accepted by the parser): a prefix
// is a truncation only below the parsed length.
const REAL = ["automata-sgx-v3", "automata-tdx-v4", "automata-tdx-v5"].map((v) => {
  const file = new Uint8Array(readFileSync(fileURLToPath(new URL(`${v}/quote.bin`, VECTORS))));
  return { v, quote: file.subarray(0, dcapQuoteLength(file)) };
});
const ALLOWED = new Set([Code.InvalidArgument, Code.Unauthenticated]);

describe("Attest: truncated evidence is the caller's error, never INTERNAL", () => {
  let f: Awaited<ReturnType<typeof startFixture>>;
  let client: ReturnType<typeof createClient<typeof ChallengeService>>;
  const epk = new Uint8Array(createECDH("prime256v1").generateKeys());
  before(async () => {
    f = await startFixture([seedPolicy("hello", 0xc1)]);
    const root = parsePemCertificates(f.platform.rootCertificatePem)[0];
    if (root === undefined) throw new Error("no root");
    const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
    const collateral = parseCollateralJson(f.platform.collateralJson("sgx"));
    const policy = policyFromObject(
      { id: "svc", platforms: ["simulated"], mrEnclave: [hex(SIM_SERVICE_MEASUREMENT)] },
      "t",
    );
    const { transport } = await createRaTlsGrpcTransport({
      host: "127.0.0.1",
      port: f.running.challengePort ?? assert.fail("no challenge listener"),
      peerVerifier: createPeerVerifier({
        verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
      }),
    });
    client = createClient(ChallengeService, transport);
  });
  after(async () => {
    await f.service.close();
    await f.store.close();
  });

  // Each prefix under a fresh nonce (a nonce is spent by any Attest); `quoteOf` may bind the nonce.
  async function sweep(
    label: string,
    quoteOf: (nonce: Uint8Array) => Uint8Array,
    length: number,
    take: (n: number) => boolean = () => true,
  ) {
    const seen = new Map<string, number>();
    const lengths = Array.from({ length }, (_, n) => n).filter(take);
    for (let at = 0; at < lengths.length; at += 16) {
      const ns = lengths.slice(at, at + 16);
      await Promise.all(
        ns.map(async (n) => {
          const { nonce } = await client.challenge({});
          const quote = quoteOf(nonce).subarray(0, n);
          const e = await client.attest({ nonce, quote, ephemeralPublicKey: epk }).then(
            () => assert.fail(`${label}: a ${n}-byte prefix was accepted`),
            (e: unknown) => e,
          );
          assert.ok(e instanceof ConnectError, `${label}[0..${n}]: ${String(e)}`);
          assert.ok(ALLOWED.has(e.code), `${label}[0..${n}]: ${Code[e.code]} ${e.rawMessage}`);
          const c = /^(ERR_[A-Z0-9_]+):/.exec(e.rawMessage)?.[1] ?? "none";
          seen.set(c, (seen.get(c) ?? 0) + 1);
        }),
      );
    }
    return seen;
  }

  // Over the wire: every prefix of the SGX quote's fixed part (header, report body, signature,
  // attestation key, QE report and its signature, the lengths: its first 1,100 bytes) and every
  // 4th prefix of its certification data; every 7th prefix of the TDX quotes. Each prefix of all
  // three goes in-process below, through both trust modes' quote paths and the status table.
  for (const [i, { v, quote }] of REAL.entries())
    it(`${i === 0 ? "every prefix to 1,100 bytes, then every 4th," : "every 7th prefix"} of the real ${v} quote`, async () => {
      const take = i === 0 ? (n: number) => n < 1100 || n % 4 === 0 : (n: number) => n % 7 === 0;
      const seen = await sweep(v, () => quote, quote.byteLength, take);
      assert.equal(
        [...seen.values()].reduce((x, y) => x + y, 0),
        Array.from({ length: quote.byteLength }, (_, n) => n).filter(take).length,
      );
      assert.ok(seen.has("ERR_BYTES_TRUNCATED"), JSON.stringify([...seen]));
    });

  it("every 5th prefix of a simulated quote that binds the nonce (the whole one is accepted)", async () => {
    const quoteOf = (nonce: Uint8Array) => {
      const reportData = new Uint8Array(64);
      reportData.set(challengeReportData(nonce, epk));
      return f.platform.quoteSgx({
        mrEnclave: mr(0xc1),
        mrSigner: mr(0x55),
        isvProdId: 1,
        isvSvn: 1,
        reportData,
      });
    };
    const { nonce } = await client.challenge({});
    const whole = quoteOf(nonce);
    assert.equal((await client.attest({ nonce, quote: whole, ephemeralPublicKey: epk })).policyId, "hello");
    const seen = await sweep("simulated", quoteOf, whole.byteLength, (n) => n % 5 === 0);
    assert.ok(seen.has("ERR_BYTES_TRUNCATED"), JSON.stringify([...seen]));
  });

  it("refuses an ephemeral key that is not a P-256 point as INVALID_ARGUMENT, before any release", async () => {
    const offCurve = new Uint8Array(65).fill(7);
    offCurve[0] = 4;
    const { nonce } = await client.challenge({});
    const reportData = new Uint8Array(64);
    reportData.set(challengeReportData(nonce, offCurve));
    const quote = f.platform.quoteSgx({
      mrEnclave: mr(0xc1),
      mrSigner: mr(0x55),
      isvProdId: 1,
      isvSvn: 1,
      reportData,
    });
    await assert.rejects(
      client.attest({ nonce, quote, ephemeralPublicKey: offCurve }),
      (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument,
    );
  });

  it("both trust modes' quote paths: every prefix is refused with a code whose status is not INTERNAL", async () => {
    // Collateral is looked up for the FMSPC the quote's PCK certificate names: a prefix must be
    // refused before that, as the caller's error (a provider that is reached fails the test).
    let fetched = 0;
    const verify = hardwareQuoteTrust({
      get: () => {
        fetched++;
        return Promise.reject(new Error("collateral fetched for a truncated quote"));
      },
      size: 0,
    });
    const simulated = simulationQuoteTrust(f.platform);
    for (const { v, quote } of REAL)
      for (let n = 0; n < quote.byteLength; n++) {
        const prefix = quote.subarray(0, n);
        assert.throws(
          () => simulated(prefix, new Date()),
          (e: unknown) => isKeywardError(e) && ALLOWED.has(statusOf(e.code)),
          `${v}[0..${n}] (simulation)`,
        );
        const e = await verify(prefix, new Date()).then(
          () => assert.fail(`${v}: a ${n}-byte prefix was accepted`),
          (e: unknown) => e,
        );
        assert.ok(isKeywardError(e), `${v}[0..${n}]: ${String(e)}`);
        assert.ok(ALLOWED.has(statusOf(e.code)), `${v}[0..${n}]: ${e.code}`);
      }
    assert.equal(fetched, 0);
  });
});
