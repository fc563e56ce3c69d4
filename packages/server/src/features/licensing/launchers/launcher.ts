/**
 * What every enclave launcher of the licensing feature offers (the local simulated launcher and the
 * Kubernetes one): start one enclave for a user under a licence and wait until it accepts
 * connections, stop it (revocation, expiry, logout), list what runs, and after a restart remove
 * what no active user or licence still needs.
 *
 * @module
 */

/** The enclave to run: an image (or bundle) and how it is reached. */
export interface EnclaveSpec {
  /** Container image reference (`registry/name:tag` or `registry/name@sha256:...`). */
  readonly image: string;
  /** Arguments passed to the enclave's entry point. */
  readonly args?: readonly string[];
  /** Non-secret settings, passed as environment variables. Secrets never go here. */
  readonly env?: Readonly<Record<string, string>>;
  /** TCP port the enclave's TLS listener binds (1-65535). */
  readonly port: number;
  /** Run on SGX hardware: request the SGX device plugin's resources. */
  readonly hardware?: boolean;
}

/** Which enclave: one per (user, licence, instance). */
export interface LaunchRequest {
  readonly userId: string;
  readonly licenceId: string;
  /**
   * Distinguishes concurrent enclaves of one user under one licence (a licence may allow several);
   * the same triple names the same enclave, so a repeated launch reuses it. Default "0".
   */
  readonly instance?: string;
  readonly enclave: EnclaveSpec;
}

/** Why an enclave is stopped (recorded by the caller's audit, and choosing how fast it goes). */
export type StopReason = "revoked" | "expired" | "logout" | "orphaned" | "failed" | "requested";

/** Where an enclave stands. */
export type EnclaveState = "starting" | "ready" | "stopping" | "terminated";

/** A launched enclave as a launcher reports it. */
export interface EnclaveInstance {
  /** The launcher's identifier (the pod name on Kubernetes). */
  readonly id: string;
  readonly userId: string;
  readonly licenceId: string;
  readonly instance: string;
  readonly state: EnclaveState;
  /** Where its TLS listener is reached, once known (the pod IP on Kubernetes). */
  readonly address: { readonly host: string; readonly port: number } | undefined;
  /** Why it is not running, when it is terminated (e.g. `ImagePullBackOff`, `Failed`). */
  readonly reason?: string;
}

/** Decides, after a restart, whether an enclave is still wanted (its user and licence are active). */
export type StillActive = (instance: EnclaveInstance) => boolean | Promise<boolean>;

/** A launcher of per-user enclaves. */
export interface EnclaveLauncher {
  /**
   * Starts the enclave of `request` (or reuses the one already running for the same user, licence
   * and instance) and resolves when it is ready to accept connections.
   * @throws KeywardError ERR_LAUNCHER_* (START_FAILED, TIMEOUT, FORBIDDEN, CONFLICT, ...)
   */
  launch(request: LaunchRequest, options?: { readonly signal?: AbortSignal }): Promise<EnclaveInstance>;
  /**
   * Stops one enclave and resolves when it is gone. Stopping an enclave that is already gone is not
   * an error.
   * @throws KeywardError ERR_LAUNCHER_* (FORBIDDEN, TIMEOUT, UNAVAILABLE)
   */
  stop(id: string, reason: StopReason): Promise<void>;
  /** The enclaves this launcher started, optionally of one user and/or licence. */
  list(filter?: { readonly userId?: string; readonly licenceId?: string }): Promise<EnclaveInstance[]>;
  /**
   * Stops every enclave of this launcher that `stillActive` no longer wants, and every one that has
   * terminated; returns what it stopped. Run after a restart, when launches may have been lost.
   */
  collectOrphans(stillActive: StillActive): Promise<EnclaveInstance[]>;
}

/**
 * Stops every enclave of a user and/or licence (revocation stops all enclaves of a licence; logout
 * those of a user). Resolves with what it stopped.
 */
export async function stopAll(
  launcher: EnclaveLauncher,
  filter: { readonly userId?: string; readonly licenceId?: string },
  reason: StopReason,
): Promise<EnclaveInstance[]> {
  const running = await launcher.list(filter);
  await Promise.all(running.map((i) => launcher.stop(i.id, reason)));
  return running;
}
