/**
 * The KBS listener's options: where it listens, the certificate it presents (an ordinary one a
 * Confidential Containers guest checks against the `cert` of its KBS configuration, or else the
 * service's own RA-TLS certificate), plain HTTP for development, and the token lifetime.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { TlsCredential } from "@keyward/channels/tls";
import { readTextBounded } from "@keyward/platform/io";
import { defineOption, type OptionValues, parsers } from "../../ops/options.ts";

export const KBS_LISTEN = defineOption<{ readonly host: string; readonly port: number } | undefined>({
  key: "kbsListen",
  flag: "kbs-listen",
  env: "KEYWARD_KBS_LISTEN",
  kind: "string",
  doc: "the KBS protocol listener (Confidential Containers: /kbs/v0/auth, attest, resource)",
  defaultDoc: "(none)",
  parse: parsers.hostPort,
  fallback: () => undefined,
});

export const KBS_CERT = defineOption<string | undefined>({
  key: "kbsCert",
  flag: "kbs-cert",
  env: "KEYWARD_KBS_CERT",
  kind: "string",
  doc: "PEM certificate chain the KBS listener presents (with --kbs-key)",
  defaultDoc: "the service's RA-TLS certificate",
  parse: parsers.text,
  fallback: () => undefined,
});

export const KBS_KEY = defineOption<string | undefined>({
  key: "kbsKey",
  flag: "kbs-key",
  env: "KEYWARD_KBS_KEY",
  kind: "string",
  doc: "PEM private key of --kbs-cert",
  defaultDoc: "the service's RA-TLS key",
  parse: parsers.text,
  fallback: () => undefined,
});

export const KBS_INSECURE_HTTP = defineOption({
  key: "kbsInsecureHttp",
  flag: "kbs-insecure-http",
  env: "KEYWARD_KBS_INSECURE_HTTP",
  kind: "boolean",
  doc: "serve the KBS protocol over plain HTTP (development only: resources stay JWE-encrypted to the TEE key)",
  defaultDoc: "off",
  parse: parsers.boolean,
  fallback: () => false,
});

export const KBS_TOKEN_TTL = defineOption({
  key: "kbsTokenTtl",
  flag: "kbs-token-ttl",
  env: "KEYWARD_KBS_TOKEN_TTL",
  kind: "string",
  doc: "lifetime of KBS attestation tokens and sessions, in seconds (30–3600)",
  defaultDoc: "300",
  parse: (t) => {
    const n = Number(t);
    if (!/^\d+$/.test(t) || n < 30 || n > 3600) throw new Error("must be whole seconds from 30 to 3600");
    return n;
  },
  fallback: () => 300,
});

/** Every option of the KBS feature. */
export const KBS_OPTIONS = [KBS_LISTEN, KBS_CERT, KBS_KEY, KBS_INSECURE_HTTP, KBS_TOKEN_TTL];

/**
 * The credential the listener presents: `--kbs-cert`/`--kbs-key` when given (both), else the
 * service's own; undefined for plain HTTP.
 * @throws ERR_SERVICE_CONFIG (one of the pair alone, both with plain HTTP), ERR_IO
 */
export function kbsCredential(options: OptionValues, service: TlsCredential): TlsCredential | undefined {
  const cert = options.get(KBS_CERT);
  const key = options.get(KBS_KEY);
  if ((cert === undefined) !== (key === undefined))
    throw new KeywardError("ERR_SERVICE_CONFIG", "--kbs-cert and --kbs-key go together");
  if (options.get(KBS_INSECURE_HTTP)) {
    if (cert !== undefined)
      throw new KeywardError(
        "ERR_SERVICE_CONFIG",
        "--kbs-insecure-http serves no certificate: drop --kbs-cert",
      );
    return undefined;
  }
  if (cert === undefined || key === undefined) return service;
  return {
    certificatePem: readTextBounded(cert, { kind: "certificate", what: "KBS certificate" }),
    keyPem: readTextBounded(key, { kind: "key", what: "KBS key" }),
  };
}
