/**
 * The TypeScript API of a licensing client: sign up, log in (tokens kept in memory; refresh
 * rotates them), list licences, launch an enclave, and `connect` — fetch a binding for a fresh
 * nonce, trust the AK, verify the quote, and open TLS pinned to exactly the bound certificate.
 *
 * @example
 * const client = new LicensingClient({ host: "127.0.0.1", port, caPem });
 * await client.signUp("alice", password);
 * await client.login("alice", password);
 * const [licence] = await client.licences();
 * const enclave = await client.launch(licence.id);
 * const { socket } = await client.connect(enclave.id, { kind: "pinned", names: [akName] });
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KeywardError } from "@keyward/attest/errors";
import type { TpmQuoteVerdict } from "@keyward/attest/tpm";
import type { Certificate } from "@keyward/attest/x509";
import { type Enclave, type EnclaveBinding, type Licence, Licensing } from "@keyward/proto/keyward/v1";
import { fromConnectError } from "../../../errors/connect.ts";
import { connectPinned } from "./pinned-connect.ts";
import { type AkTrust, trustAk, verifyBinding } from "./verify-binding.ts";

/** Where the licensing server is, and the CA its certificate chains to (PEM). */
export interface LicensingClientOptions {
  readonly host: string;
  readonly port: number;
  readonly caPem: string;
}

/** A session's tokens. */
export interface LicensingSession {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** How {@link LicensingClient.connect} trusts the AK: pinned Names, or EK manufacturer roots (activation through this server). */
export type ClientAkTrust =
  | { readonly kind: "pinned"; readonly names: readonly Uint8Array[] }
  | { readonly kind: "ek"; readonly roots: readonly Certificate[] };

/** A verified, pinned connection to an enclave. */
export interface VerifiedConnection {
  readonly socket: TLSSocket;
  readonly enclave: Enclave;
  readonly certificateSha256: Uint8Array;
  readonly quote: TpmQuoteVerdict;
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw fromConnectError(e);
  }
}

/** A client of one licensing server. */
export class LicensingClient {
  readonly #rpc: Client<typeof Licensing>;
  #session: LicensingSession | undefined;

  constructor(options: LicensingClientOptions, session?: LicensingSession) {
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    this.#rpc = createClient(
      Licensing,
      createGrpcTransport({ baseUrl: `https://${host}:${options.port}`, nodeOptions: { ca: options.caPem } }),
    );
    this.#session = session;
  }

  /** The current tokens (to keep them across processes). */
  get session(): LicensingSession | undefined {
    return this.#session;
  }

  #auth(): { headers: Record<string, string> } {
    if (this.#session === undefined)
      throw new KeywardError("ERR_LICENSING_TOKEN_INVALID", "not logged in: run login first");
    return { headers: { authorization: `Bearer ${this.#session.accessToken}` } };
  }

  /** @throws ERR_LICENSING_INPUT_INVALID, ERR_LICENSING_USER_EXISTS */
  async signUp(user: string, password: string): Promise<void> {
    await mapped(() => this.#rpc.signUp({ user, password }));
  }

  /** @throws ERR_LICENSING_LOGIN_FAILED, ERR_LICENSING_LOCKED (detail.retryAfter), ERR_LICENSING_OTP_REQUIRED, ERR_OTP_* */
  async login(user: string, password: string, otp = ""): Promise<LicensingSession> {
    const r = await mapped(() => this.#rpc.login({ user, password, otp }));
    this.#session = { accessToken: r.accessToken, refreshToken: r.refreshToken };
    return this.#session;
  }

  /** Rotates the tokens. @throws ERR_LICENSING_REFRESH_INVALID */
  async refresh(): Promise<LicensingSession> {
    const refreshToken = this.#session?.refreshToken ?? "";
    const r = await mapped(() => this.#rpc.refresh({ refreshToken }));
    this.#session = { accessToken: r.accessToken, refreshToken: r.refreshToken };
    return this.#session;
  }

  /** Ends the session and its enclaves; returns how many were stopped. */
  async logout(): Promise<number> {
    const refreshToken = this.#session?.refreshToken ?? "";
    const r = await mapped(() => this.#rpc.logout({ refreshToken }));
    this.#session = undefined;
    return r.enclavesStopped;
  }

  async licences(): Promise<Licence[]> {
    return (await mapped(() => this.#rpc.listLicences({}, this.#auth()))).licences;
  }

  /** @throws ERR_LICENSING_NO_LICENCE, ERR_LICENSING_LIMIT, ERR_LAUNCHER_* */
  async launch(licenceId: string): Promise<Enclave> {
    return mapped(() => this.#rpc.launchEnclave({ licenceId }, this.#auth()));
  }

  async stop(enclaveId: string): Promise<Enclave> {
    return mapped(() => this.#rpc.stopEnclave({ enclaveId }, this.#auth()));
  }

  /** The raw binding for `nonce` (verify it with {@link verifyBinding}). */
  async binding(enclaveId: string, nonce: Uint8Array): Promise<EnclaveBinding> {
    return mapped(() => this.#rpc.getEnclaveBinding({ enclaveId, nonce }, this.#auth()));
  }

  /** TPM2_ActivateCredential through the server. */
  async activateAk(credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Uint8Array> {
    return (await mapped(() => this.#rpc.activateAk({ credentialBlob, encryptedSecret }, this.#auth())))
      .secret;
  }

  /**
   * Verifies the enclave's binding for a fresh 32-byte nonce and connects pinned to its certificate.
   * @throws ERR_LICENSING_AK_UNTRUSTED, ERR_TPM_* (detail.check), ERR_LICENSING_BINDING_MISMATCH, ERR_IO
   */
  async connect(
    enclaveId: string,
    trust: ClientAkTrust,
    options: { readonly alpn?: readonly string[]; readonly at?: Date } = {},
  ): Promise<VerifiedConnection> {
    const nonce = new Uint8Array(randomBytes(32));
    const b = await this.binding(enclaveId, nonce);
    const enclave = b.enclave;
    if (enclave === undefined)
      throw new KeywardError("ERR_LICENSING_BINDING_MISMATCH", "the binding names no enclave");
    const fullTrust: AkTrust =
      trust.kind === "pinned"
        ? trust
        : { kind: "ek", roots: trust.roots, activate: (c, s) => this.activateAk(c, s) };
    const ak = await trustAk(b.akPublic, b.ekCertificates, fullTrust, options.at ?? new Date());
    const { verdict, certificateSha256 } = verifyBinding(b, ak, nonce);
    const socket = await connectPinned(enclave.host, enclave.port, b.certificate, {
      ...(options.alpn === undefined ? {} : { alpn: options.alpn }),
    });
    return { socket, enclave, certificateSha256, quote: verdict };
  }
}
