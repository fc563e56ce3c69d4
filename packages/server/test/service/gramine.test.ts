/**
 * Gramine secret provisioning in the service (`--gramine-secret-prov-listen`), over real sockets:
 * a client written from the protocol as `secret_prov_attest.c` speaks it (mutual TLS with a
 * Gramine-layout RA-TLS client certificate — P-384 key, the TCG and legacy Gramine extensions —
 * the server checked against a CA chain and the dialled host name, the 35-byte request, the
 * 37-byte response header, a big-endian u32 length, the secret), simulated enclaves accepted and
 * refused by the policies, every decision in the audit log; and the real Gramine RA-TLS
 * certificate from SGX hardware through the service's hardware verification with collateral from
 * a local PCCS (its private key is not public, so it cannot complete a handshake here).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { appraise } from "@keyward/attest/appraisal";
import { collateralProviderFor } from "@keyward/channels/collateral";
import { SECRET_PROVISION_REQUEST } from "@keyward/channels/gramine";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { simulatedPlatformAttester } from "@keyward/platform/sim";
import { pickGramineSecret } from "../../src/features/gramine/grants.ts";
import { hardwareTrust } from "../../src/kernel/trust.ts";
import { POLICY_READER } from "../../src/main.ts";
import { gramineSecretProvision, type SecretProvisionOutcome } from "./gramine-client.ts";
import { hex, mr, seedPolicy, startFixture } from "./helpers.ts";
import { type RecordedPccs, startRecordedPccs } from "./recorded-pccs.ts";
import { makeTestTls } from "./tls-ca.ts";

const tls = makeTestTls();
const secrets = { a: "occlum/1/image_key", b: "occlum/1/image_key" };
let f: Awaited<ReturnType<typeof startFixture>>;
let port: number;

before(async () => {
  f = await startFixture(
    [
      seedPolicy("one", 0xd1),
      seedPolicy("two", 0xd2, { secrets }),
      seedPolicy("named", 0xd3, { secrets, gramine_secret: "b" }),
      seedPolicy("misnamed", 0xd4, { secrets, gramine_secret: "c" }),
    ],
    {
      serviceFlags: {
        gramineSecretProvListen: "127.0.0.1:0",
        gramineSecretProvCert: tls.certFile,
        gramineSecretProvKey: tls.keyFile,
      },
    },
  );
  port = f.running.ports.gramineSecretProvPort ?? assert.fail("no Gramine listener");
});
after(async () => {
  await f.service.close();
});

/** A Gramine enclave's RA-TLS credential, in Gramine's layout. */
function gramineCredential(m: number, debug = false) {
  return issueRaTlsCertificate({
    attester: simulatedPlatformAttester(f.platform, {
      mrEnclave: mr(m),
      mrSigner: mr(0x55),
      isvProdId: 1,
      isvSvn: 1,
      ...(debug ? { debug: true } : {}),
    }),
    curve: "P-384",
    legacyExtension: true,
  });
}

type Outcome = SecretProvisionOutcome;

const gramineClient = (
  credential: { certificatePem: string; keyPem: string },
  request: Uint8Array = SECRET_PROVISION_REQUEST,
) =>
  gramineSecretProvision({
    host: "127.0.0.1",
    port,
    servername: "localhost",
    ca: tls.caPem,
    credential,
    request,
  });

const text = (o: Outcome) => ("secret" in o ? Buffer.from(o.secret).toString("latin1") : "refused");

describe("Gramine secret provisioning in keyward serve", () => {
  it("sends the policy's one secret, NUL-terminated, to an accepted enclave", async () => {
    assert.equal(text(await gramineClient(await gramineCredential(0xd1))), "s3cr3t-image-key\0");
  });

  it("sends the secret gramineSecret names when the policy grants several", async () => {
    assert.equal(text(await gramineClient(await gramineCredential(0xd3))), "s3cr3t-image-key\0");
  });

  it("refuses, by closing, evidence no policy accepts, a debug enclave, and an ambiguous or misnamed grant", async () => {
    for (const [m, debug] of [
      [0xee, false],
      [0xd1, true],
      [0xd2, false],
      [0xd4, false],
    ] as const)
      assert.equal(text(await gramineClient(await gramineCredential(m, debug))), "refused", hex(mr(m)));
  });

  it("refuses a request that is not the protocol's, and a client without a certificate", async () => {
    const cred = await gramineCredential(0xd1);
    const wrong = new TextEncoder().encode("SECRET_PROVISION_RA_TLS_REQUEST_V2\0");
    assert.equal(text(await gramineClient(cred, wrong)), "refused");
    assert.equal(
      text(await gramineClient({ certificatePem: "", keyPem: "" }).catch(() => ({ refused: true as const }))),
      "refused",
    );
  });

  it("audits each decision through the gate, via secret-prov", async () => {
    const entries = (await f.store.readAudit(1, 1000)).filter(
      (e) => (e.detail as { via?: string } | undefined)?.via === "secret-prov",
    );
    const outcomes = (id: string) => entries.filter((e) => e.policyId === id).map((e) => e.outcome);
    assert.ok(outcomes("one").includes("allowed"));
    assert.ok(outcomes("named").includes("allowed"));
    assert.ok(outcomes("two").includes("denied"));
    assert.ok(outcomes("misnamed").includes("denied"));
    assert.ok(entries.some((e) => e.outcome === "denied" && e.subject === `sgx:${hex(mr(0xee))}`));
  });
});

describe("a real Gramine RA-TLS certificate (SGX hardware) under hardware verification", () => {
  const VECTORS = fileURLToPath(new URL("../../../attest/test/vectors/", import.meta.url));
  const GRAMINE_DER = new Uint8Array(readFileSync(join(VECTORS, "ratls", "gramine-cert.der")));
  const AT = new Date("2025-08-15T05:45:00Z"); // inside the collateral's window (ratls/NOTES.md)
  let pccs: RecordedPccs;
  let pccsUrl = "";
  before(async () => {
    // A PCCS answering PCS v4 paths with Intel's recorded responses for the vector's FMSPC.
    pccs = await startRecordedPccs();
    pccsUrl = pccs.url;
  });
  after(() => pccs.close());

  it("verifies with the listener's peer verification, and the policy's grant picks the secret", async () => {
    const verdict = await hardwareTrust(collateralProviderFor(pccsUrl))(GRAMINE_DER, AT);
    const claims = verdict.verified.claims;
    assert.equal(claims.tee, "sgx");
    const mrEnclave = claims.tee === "sgx" ? hex(claims.mrEnclave) : "";
    assert.ok(mrEnclave.startsWith("0866e7ca"));
    const policy = (extra: Record<string, unknown>) =>
      POLICY_READER.policy(
        {
          id: "gramine-app",
          mrEnclave: [mrEnclave],
          platforms: ["hardware"],
          allowDebug: true,
          tcbStatuses: ["UpToDate", "OutOfDate"],
          secrets: { "pf-key": "apps/pf-key" },
          ...extra,
        },
        "gramine-app.json",
      );
    const accepting = policy({});
    assert.equal(appraise(verdict.verified, accepting).accepted, true);
    assert.deepEqual(pickGramineSecret(accepting, ["pf-key"]), { names: ["pf-key"], refused: [] });
    // The same certificate under a policy for another enclave, or one refusing debug, is refused.
    assert.equal(appraise(verdict.verified, policy({ mrEnclave: [hex(mr(1))] })).accepted, false);
    assert.equal(appraise(verdict.verified, policy({ allowDebug: false })).accepted, false);
  });
});
