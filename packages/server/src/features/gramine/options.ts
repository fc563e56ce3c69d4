/**
 * The Gramine secret-provisioning listener's options: where it listens, and the certificate it
 * presents. Gramine's client (`secret_prov_attest.c`) verifies the server with mbedTLS against the
 * CA chain in `SECRET_PROVISION_CA_CHAIN_PATH` and the host name it dialled, so the listener
 * presents an ordinary CA-issued certificate for that name, never the service's RA-TLS one.
 *
 * @module
 */
import { KeywardError } from "@keyward/attest/errors";
import type { TlsCredential } from "@keyward/channels/tls";
import { readTextBounded } from "@keyward/platform/io";
import { defineOption, type OptionValues, parsers } from "../../ops/options.ts";

export const SECRET_PROV_LISTEN = defineOption<{ readonly host: string; readonly port: number } | undefined>({
  key: "gramineSecretProvListen",
  flag: "gramine-secret-prov-listen",
  env: "KEYWARD_GRAMINE_SECRET_PROV_LISTEN",
  kind: "string",
  doc: "Gramine's secret-provisioning protocol (SECRET_PROVISION_SERVERS of an unchanged Gramine app)",
  defaultDoc: "(none)",
  parse: parsers.hostPort,
  fallback: () => undefined,
});

export const SECRET_PROV_CERT = defineOption<string | undefined>({
  key: "gramineSecretProvCert",
  flag: "gramine-secret-prov-cert",
  env: "KEYWARD_GRAMINE_SECRET_PROV_CERT",
  kind: "string",
  doc: "PEM certificate chain the Gramine listener presents (issued by the CA in the apps' SECRET_PROVISION_CA_CHAIN_PATH)",
  defaultDoc: "(required with the listener)",
  parse: parsers.text,
  fallback: () => undefined,
});

export const SECRET_PROV_KEY = defineOption<string | undefined>({
  key: "gramineSecretProvKey",
  flag: "gramine-secret-prov-key",
  env: "KEYWARD_GRAMINE_SECRET_PROV_KEY",
  kind: "string",
  doc: "PEM private key of --gramine-secret-prov-cert",
  defaultDoc: "(required with the listener)",
  parse: parsers.text,
  fallback: () => undefined,
});

/** Every option of the Gramine feature. */
export const SECRET_PROV_OPTIONS = [SECRET_PROV_LISTEN, SECRET_PROV_CERT, SECRET_PROV_KEY];

/**
 * The listener's credential from `--gramine-secret-prov-cert`/`--gramine-secret-prov-key`.
 * @throws ERR_SERVICE_CONFIG when either is missing (a Gramine client cannot verify an RA-TLS
 *   server certificate against its CA chain), ERR_IO
 */
export function secretProvCredential(options: OptionValues): TlsCredential {
  const cert = options.get(SECRET_PROV_CERT);
  const key = options.get(SECRET_PROV_KEY);
  if (cert === undefined || key === undefined)
    throw new KeywardError(
      "ERR_SERVICE_CONFIG",
      "--gramine-secret-prov-listen needs --gramine-secret-prov-cert and --gramine-secret-prov-key: Gramine apps verify the server against their CA chain (SECRET_PROVISION_CA_CHAIN_PATH)",
    );
  return {
    certificatePem: readTextBounded(cert, {
      kind: "certificate",
      what: "Gramine secret-provisioning certificate",
    }),
    keyPem: readTextBounded(key, { kind: "key", what: "Gramine secret-provisioning key" }),
  };
}
