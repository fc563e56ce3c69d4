/**
 * The one-time enrollment: otpqr's RA-TLS client certificate made from its own evidence, the
 * service's evidence verified against the trusted root and the expected service MRENCLAVE
 * (mutual RA-TLS), then `OtpEnrollmentService.Enroll`. The service's gate appraises otpqr, checks
 * the `otpEnrollment` grant and consumes the account's ticket in one conditional UPDATE.
 *
 * @module
 */
import { ConnectError, createClient } from "@connectrpc/connect";
import { policyFromObject } from "@keyward/attest/appraisal";
import { createDcapVerifier, parseCollateralJson } from "@keyward/attest/dcap";
import { type ErrorCode, KeywardError } from "@keyward/attest/errors";
import { verifyRaTlsCertificate } from "@keyward/attest/ratls";
import { parsePemCertificates } from "@keyward/attest/x509";
import { createRaTlsGrpcTransport } from "@keyward/channels/grpc";
import { createPeerVerifier } from "@keyward/channels/tls";
import type { Attester } from "@keyward/platform/enclave";
import { issueRaTlsCertificate } from "@keyward/platform/ratls";
import { loadSimPlatform } from "@keyward/platform/sim";
import { OtpEnrollmentService } from "@keyward/proto/keyward/v1";

/** What the service hands over once. */
export interface Enrolled {
  readonly account: string;
  readonly issuer: string;
  readonly secret: Uint8Array;
  readonly algorithm: string;
  readonly digits: number;
  readonly period: number;
}

/** The Keyward error a failed call stands for: the code the service put first in its message. */
export function errorOfCall(e: unknown): KeywardError {
  if (e instanceof KeywardError) return e;
  const message = e instanceof ConnectError ? e.rawMessage : e instanceof Error ? e.message : String(e);
  const m = /^(ERR_[A-Z0-9_]+): (.*)$/s.exec(message);
  if (m !== null) return new KeywardError(m[1] as ErrorCode, m[2] as string, { cause: e });
  return new KeywardError("ERR_IO", `the service could not be reached: ${message}`, { cause: e });
}

/**
 * Enrolls `account` at `host:port`, trusting the simulated platform of `simDir` and a service
 * whose MRENCLAVE is `serviceMrEnclave` (hex).
 * @throws ERR_OTP_ENROLLMENT_USED, ERR_SERVICE_DENIED, ERR_OTP_ACCOUNT_NOT_FOUND, ERR_OTP_ACCOUNT_DISABLED, ERR_IO (unreachable)
 */
export async function enroll(opts: {
  readonly attester: Attester;
  readonly host: string;
  readonly port: number;
  readonly simDir: string;
  readonly serviceMrEnclave: string;
  readonly account: string;
}): Promise<Enrolled> {
  const platform = loadSimPlatform(opts.simDir);
  const [root] = parsePemCertificates(platform.rootCertificatePem, 1);
  if (root === undefined) throw new KeywardError("ERR_IO", `${opts.simDir}: no simulation root`);
  const verifier = createDcapVerifier({ anchors: [{ certificate: root, platform: "simulated" }] });
  const collateral = parseCollateralJson(platform.collateralJson("sgx"));
  const policy = policyFromObject(
    { id: "keyward-service", platforms: ["simulated"], mrEnclave: [opts.serviceMrEnclave] },
    "otpqr",
  );
  try {
    const credential = await issueRaTlsCertificate({ attester: opts.attester });
    const { transport } = await createRaTlsGrpcTransport({
      host: opts.host,
      port: opts.port,
      credential,
      peerVerifier: createPeerVerifier({
        verify: (der, at) => verifyRaTlsCertificate(der, { verifier, collateral, at, policy }),
      }),
    });
    const r = await createClient(OtpEnrollmentService, transport).enroll(
      { account: opts.account },
      { timeoutMs: 30_000 },
    );
    return {
      account: r.account,
      issuer: r.issuer,
      secret: r.secret,
      algorithm: r.algorithm,
      digits: r.digits,
      period: r.period,
    };
  } catch (e) {
    throw errorOfCall(e);
  }
}
