/**
 * The secret-provisioning service: `SecretProvisioningService.GetSecrets` over mutual RA-TLS gRPC.
 * The caller is the verified evidence of its client certificate; the first policy that accepts it
 * grants secrets. Every release or refusal is appended to the audit chain before the response.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { Http2SecureServer } from "node:http2";
import type { HandlerContext } from "@connectrpc/connect";
import { appraiseAgainstSet, type Policy } from "@keyward/attest/appraisal";
import { KeywardError } from "@keyward/attest/errors";
import { claimsRecord } from "@keyward/attest/evidence";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import { createRaTlsGrpcServer, peerIdentityKey, unaryRoutes } from "@keyward/channels/grpc";
import { createPeerVerifier, type TlsCredential, type VerifyCertificate } from "@keyward/channels/tls";
import { KeyManagementService, SecretProvisioningService } from "@keyward/proto/keyward/v1";
import type { AuditEvent } from "./audit.ts";
import { openSecret } from "./envelope.ts";
import { toConnectError } from "./errors.ts";
import { kmsImplementation, registerKms } from "./kms.ts";
import { listenOn } from "./listening.ts";
import type { Metrics } from "./metrics.ts";
import type { Store } from "./store.ts";
import { readVaultKv2 } from "./vault.ts";

/** The fields a log line may carry; values never include secrets, keys or tokens. */
export interface ServiceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface KeywardServiceOptions {
  readonly store: Store;
  readonly masterKey: Uint8Array;
  /** The current policy set (called per request, so a hot reloader can swap it). */
  readonly policies: () => readonly Policy[];
  /** DCAP verification of a client certificate's evidence (no policy: grants are appraised here). */
  readonly verifyPeer: VerifyCertificate;
  /** The service's own RA-TLS (or, in development, plain) certificate and key. */
  readonly credential: TlsCredential;
  readonly logger?: ServiceLogger;
  /** Vault's address for `vault:` grants (read with the policy's app_token). */
  readonly vaultAddr?: string;
  readonly metrics?: Metrics;
}

export interface RunningService {
  readonly server: Http2SecureServer;
  readonly port: number;
  close(): Promise<void>;
}

/** `sgx:<MRENCLAVE hex>` or `tdx:<MRTD hex>`: who the audit log says asked. */
export function subjectOf(peer: RaTlsVerdict): string {
  const c = peer.verified.claims;
  if (c.tee === "sgx") return `sgx:${Buffer.from(c.mrEnclave).toString("hex")}`;
  return `tdx:${Buffer.from(c.mrTd).toString("hex")}`;
}

/** Resolves one grant reference to its value: the built-in store, or `file:PATH#field` (JSON). */
export async function resolveGrant(
  store: Store,
  masterKey: Uint8Array,
  ref: string,
  vault?: { readonly addr?: string; readonly token?: string },
): Promise<{ value: Uint8Array; version: number }> {
  if (ref.startsWith("vault:")) {
    if (vault?.addr === undefined)
      throw new KeywardError(
        "ERR_SERVICE_SOURCE_UNSUPPORTED",
        "no Vault address is configured (--vault-addr)",
      );
    return readVaultKv2(vault.addr, ref, vault.token);
  }
  if (ref.startsWith("file:")) {
    const [path = "", field = ""] = ref.slice(5).split("#");
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, "utf8"));
    } catch (cause) {
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "JSON secret file unreadable", { cause });
    }
    const v = (doc as Record<string, unknown>)[field];
    if (typeof v !== "string")
      throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no such field in JSON secret file");
    return { value: new TextEncoder().encode(v), version: 0 };
  }
  const name = ref.startsWith("store:") ? ref.slice(6) : ref;
  const s = await store.getSecret(name);
  if (s === undefined)
    throw new KeywardError("ERR_SERVICE_SECRET_NOT_FOUND", "no stored secret for a granted name");
  return { value: openSecret(masterKey, s.name, s.version, s), version: s.version };
}

const MAX_NAMES = 256;
/** The largest request message accepted (a GetSecrets of 256 names of 256 bytes fits easily). */
export const MAX_MESSAGE_BYTES = 1 << 20;

/** Starts the service on `host:port` (0 = any free port). */
export async function startKeywardService(
  options: KeywardServiceOptions,
  listen: { host: string; port: number },
): Promise<RunningService> {
  const { store, masterKey, logger } = options;
  const audit = (e: AuditEvent) => {
    options.metrics?.inc(
      "keyward_requests_total",
      { action: e.action, outcome: e.outcome },
      "Audited requests by action and outcome.",
    );
    return store.appendAudit(e);
  };

  async function getSecrets(req: { names: string[] }, peer: RaTlsVerdict | undefined) {
    try {
      if (peer === undefined) {
        await audit({
          action: "secrets.get",
          outcome: "denied",
          subject: "anonymous",
          detail: { code: "ERR_SERVICE_NOT_ATTESTED" },
        });
        throw new KeywardError(
          "ERR_SERVICE_NOT_ATTESTED",
          "the caller presented no verified RA-TLS evidence",
        );
      }
      const subject = subjectOf(peer);
      if (req.names.length > MAX_NAMES || req.names.some((n) => n.length > 256))
        throw new KeywardError("ERR_SERVICE_REQUEST_INVALID", "too many or too long secret names");
      const { accepted, appraisals } = appraiseAgainstSet(peer.verified, options.policies());
      // The claims go into the audit entry, so that `Explain` can replay this decision later.
      const claims = claimsRecord(peer.verified);
      if (accepted === undefined) {
        await audit({
          action: "secrets.get",
          outcome: "denied",
          subject,
          detail: {
            code: "ERR_SERVICE_DENIED",
            policies: appraisals.map((a) => `${a.policyId}:${a.failed.map((f) => f.rule).join("+")}`),
            claims,
          },
        });
        logger?.warn({ subject, event: "secrets.denied" }, "no policy accepts the caller");
        throw new KeywardError("ERR_SERVICE_DENIED", "no policy accepts the caller's evidence");
      }
      const names = req.names.length === 0 ? Object.keys(accepted.secrets).sort() : [...req.names];
      const ungranted = names.filter((n) => !Object.hasOwn(accepted.secrets, n));
      if (ungranted.length > 0) {
        await audit({
          action: "secrets.get",
          outcome: "denied",
          subject,
          policyId: accepted.id,
          detail: { code: "ERR_SERVICE_DENIED", names: ungranted, claims },
        });
        throw new KeywardError("ERR_SERVICE_DENIED", `policy ${accepted.id} grants no such secret`);
      }
      const secrets = [];
      for (const name of names) {
        const { value, version } = await resolveGrant(store, masterKey, accepted.secrets[name] as string, {
          ...(options.vaultAddr === undefined ? {} : { addr: options.vaultAddr }),
          ...(accepted.appToken === undefined ? {} : { token: accepted.appToken }),
        });
        secrets.push({ name, value, version });
      }
      // Audited before the response is sent: an un-audited release never leaves the service.
      await audit({
        action: "secrets.get",
        outcome: "allowed",
        subject,
        policyId: accepted.id,
        detail: { names, claims },
      });
      logger?.info({ subject, policy: accepted.id, names, event: "secrets.released" }, "secrets released");
      return { policyId: accepted.id, secrets };
    } catch (e) {
      throw toConnectError(e);
    }
  }

  const kms = kmsImplementation({ store, masterKey, policies: options.policies });
  const server = createRaTlsGrpcServer(
    { credential: options.credential, peerVerifier: createPeerVerifier({ verify: options.verifyPeer }) },
    (router) => {
      router.service(SecretProvisioningService, {
        getSecrets: (req, ctx: HandlerContext) => getSecrets(req, ctx.values.get(peerIdentityKey)),
      });
      registerKms(router, kms);
    },
    {
      routes: new Map([
        ...unaryRoutes(SecretProvisioningService, { getSecrets }),
        ...unaryRoutes(KeyManagementService, kms),
      ]),
      maxMessageBytes: MAX_MESSAGE_BYTES,
      toError: toConnectError,
    },
  );
  return listenOn(server, listen);
}
