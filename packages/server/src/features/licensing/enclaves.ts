/**
 * The enclaves of licensed users: launching one through the launcher under a valid licence (within
 * its maximum of concurrent enclaves), accepting the certificate it registers over mutual RA-TLS,
 * and stopping enclaves whose licence was revoked or expired or whose login was revoked (logout,
 * refresh token reuse).
 *
 * A launch gets a fresh launch id (128 random bits), passed to the enclave. RegisterEnclave
 * accepts a certificate only from a caller whose RA-TLS evidence verified and whose MRENCLAVE is the
 * licensed app's, only for a launch still starting, and only once (one conditional UPDATE): a
 * second registration for the same launch — a copy of the enclave started by someone else — is
 * refused, and the first certificate stays the one bound.
 *
 * The sweeper runs every `sweepMs` on every replica; stopping an enclave twice is harmless.
 *
 * @module
 */
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { toHex } from "@keyward/attest/bytes";
import { isKeywardError, KeywardError } from "@keyward/attest/errors";
import type { RaTlsVerdict } from "@keyward/attest/ratls";
import type { Row, Sql } from "../../store/sql.ts";
import { CERTIFICATE_MAX_BYTES, idOf } from "./inputs.ts";
import type { EnclaveLauncher, EnclaveSpec, StopReason } from "./launchers/launcher.ts";
import { validLicence } from "./licences.ts";

/** An enclave as stored. */
export interface EnclaveRecord {
  readonly id: string;
  readonly user: string;
  readonly licenceId: string;
  readonly family: string;
  readonly state: "starting" | "ready" | "stopped";
  readonly launcherRef: string;
  readonly host: string;
  readonly port: number;
  readonly certificate: Uint8Array | undefined;
  readonly createdAt: number;
}

function recordOf(r: Row): EnclaveRecord {
  const state = String(r.state);
  return {
    id: String(r.id),
    user: String(r.user_name),
    licenceId: String(r.licence_id),
    family: String(r.family),
    state: state === "ready" || state === "starting" ? state : "stopped",
    launcherRef: String(r.launcher_ref),
    host: String(r.host),
    port: Number(r.port),
    certificate: r.certificate instanceof Uint8Array ? r.certificate : undefined,
    createdAt: Number(r.created_at),
  };
}

/** What the enclaves need. */
export interface EnclavesDeps {
  readonly sql: Sql;
  readonly launcher: EnclaveLauncher;
  readonly now: () => Date;
  /** The licensed app's MRENCLAVE: the only one that may register. */
  readonly expectedMrEnclave: Uint8Array;
  /** The enclave to run for a launch. */
  readonly spec: (launch: {
    readonly launchId: string;
    readonly user: string;
    readonly product: string;
  }) => EnclaveSpec;
  /** How long a launched enclave may take to register, in milliseconds. */
  readonly registerTimeoutMs?: number;
  readonly onStopped?: (e: EnclaveRecord, reason: StopReason) => void;
}

/** The enclaves operations. */
export interface Enclaves {
  /** @throws ERR_LICENSING_NO_LICENCE, ERR_LICENSING_LIMIT, ERR_LAUNCHER_* */
  launch(user: string, family: string, licenceId: string): Promise<EnclaveRecord>;
  /** @throws ERR_LICENSING_REGISTRATION_REFUSED, ERR_LICENSING_INPUT_INVALID */
  register(
    peer: RaTlsVerdict | undefined,
    launchId: string,
    certificate: Uint8Array,
    port: number,
    host: string,
  ): Promise<void>;
  /** A ready enclave of `user`. @throws ERR_LICENSING_ENCLAVE_NOT_FOUND */
  ready(user: string, id: string): Promise<EnclaveRecord & { readonly certificate: Uint8Array }>;
  /** @throws ERR_LICENSING_ENCLAVE_NOT_FOUND */
  stop(user: string, id: string): Promise<EnclaveRecord>;
  /** Stops the enclaves of a login family; returns how many. */
  stopFamily(family: string, reason: StopReason): Promise<number>;
  /** Stops every enclave whose licence is revoked or expired or whose login is revoked. */
  sweep(): Promise<number>;
  /** After a restart: stops launcher enclaves no longer wanted, and forgets records of enclaves gone. */
  collectOrphans(): Promise<number>;
}

const ACTIVE = "state IN ('starting', 'ready')";

/** Enclaves over the licensing tables and `launcher`. */
export function enclaves(d: EnclavesDeps): Enclaves {
  const { sql } = d;

  async function stopRecord(e: EnclaveRecord, reason: StopReason): Promise<void> {
    if (e.launcherRef !== "") await d.launcher.stop(e.launcherRef, reason);
    const changed = await sql.run(
      `UPDATE licensing_enclaves SET state = 'stopped', stopped_at = ?, stop_reason = ? WHERE id = ? AND ${ACTIVE}`,
      [d.now().getTime(), reason, e.id],
    );
    if (changed === 1) d.onStopped?.(e, reason);
  }

  async function waitRegistered(id: string, deadline: number): Promise<EnclaveRecord> {
    for (;;) {
      const row = await sql.get("SELECT * FROM licensing_enclaves WHERE id = ?", [id]);
      const e = row === undefined ? undefined : recordOf(row);
      if (e?.certificate !== undefined) return e;
      if (e === undefined || e.state === "stopped" || Date.now() > deadline)
        throw new KeywardError(
          "ERR_LAUNCHER_TIMEOUT",
          "the enclave did not register its certificate in time",
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  return {
    async launch(user, family, licenceId) {
      const nowMs = d.now().getTime();
      const id = randomBytes(16).toString("hex");
      const launchId = randomBytes(16).toString("hex");
      const licence = await sql.transaction(async (tx) => {
        const l = await validLicence(tx, user, licenceId, nowMs);
        const running = await tx.get(
          `SELECT COUNT(*) AS n FROM licensing_enclaves WHERE licence_id = ? AND ${ACTIVE}`,
          [licenceId],
        );
        if (Number(running?.n ?? 0) >= l.maxEnclaves)
          throw new KeywardError(
            "ERR_LICENSING_LIMIT",
            `this licence allows ${l.maxEnclaves} concurrent enclave${l.maxEnclaves === 1 ? "" : "s"}`,
          );
        await tx.run(
          "INSERT INTO licensing_enclaves (id, launch_id, user_name, licence_id, family, state, launcher_ref, host, port, certificate, created_at, stopped_at, stop_reason) " +
            "VALUES (?, ?, ?, ?, ?, 'starting', '', '', 0, NULL, ?, 0, '')",
          [id, launchId, user, licenceId, family, nowMs],
        );
        return l;
      });
      const deadline = Date.now() + (d.registerTimeoutMs ?? 60_000);
      let launcherRef = "";
      try {
        const instance = await d.launcher.launch({
          userId: user,
          licenceId,
          instance: id,
          enclave: d.spec({ launchId, user, product: licence.product }),
        });
        launcherRef = instance.id;
        await sql.run("UPDATE licensing_enclaves SET launcher_ref = ? WHERE id = ?", [launcherRef, id]);
        const registered = await waitRegistered(id, deadline);
        const host = registered.host !== "" ? registered.host : (instance.address?.host ?? "");
        if (host === "")
          throw new KeywardError(
            "ERR_LAUNCHER_START_FAILED",
            "the launcher reports no address for the enclave",
          );
        const ready = await sql.run(
          "UPDATE licensing_enclaves SET state = 'ready', host = ? WHERE id = ? AND state = 'starting'",
          [host, id],
        );
        if (ready !== 1)
          throw new KeywardError("ERR_LAUNCHER_START_FAILED", "the enclave was stopped while starting");
        return { ...registered, host, state: "ready", launcherRef };
      } catch (e) {
        await stopRecord(
          {
            id,
            user,
            licenceId,
            family,
            state: "starting",
            launcherRef,
            host: "",
            port: 0,
            certificate: undefined,
            createdAt: nowMs,
          },
          "failed",
        ).catch(() => undefined);
        throw e;
      }
    },

    async register(peer, launchId, certificate, port, host) {
      const refuse = (why: string) =>
        new KeywardError("ERR_LICENSING_REGISTRATION_REFUSED", `RegisterEnclave: ${why}`);
      if (peer === undefined) throw refuse("no verified RA-TLS evidence");
      const claims = peer.verified.claims;
      if (claims.tee !== "sgx" || toHex(claims.mrEnclave) !== toHex(d.expectedMrEnclave))
        throw refuse("the caller is not the licensed enclave app");
      if (claims.debug) throw refuse("a debug enclave cannot register");
      idOf(launchId, "launch_id");
      if (certificate.byteLength === 0 || certificate.byteLength > CERTIFICATE_MAX_BYTES)
        throw new KeywardError(
          "ERR_LICENSING_INPUT_INVALID",
          `certificate: 1 to ${CERTIFICATE_MAX_BYTES} bytes of DER`,
          {
            detail: { field: "certificate" },
          },
        );
      try {
        const parsed = new X509Certificate(certificate);
        if (!Buffer.from(parsed.raw).equals(Buffer.from(certificate))) throw new Error("trailing bytes");
      } catch (cause) {
        throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "certificate: not one DER X.509 certificate", {
          cause,
          detail: { field: "certificate" },
        });
      }
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "port: 1 to 65535", {
          detail: { field: "port" },
        });
      if (host !== "" && !/^[A-Za-z0-9.:-]{1,253}$/.test(host))
        throw new KeywardError("ERR_LICENSING_INPUT_INVALID", "host: an IP address or DNS name", {
          detail: { field: "host" },
        });
      const changed = await sql.run(
        "UPDATE licensing_enclaves SET certificate = ?, port = ?, host = ? WHERE launch_id = ? AND state = 'starting' AND certificate IS NULL",
        [certificate, port, host, launchId],
      );
      if (changed !== 1) throw refuse("unknown, finished or already registered launch");
    },

    async ready(user, id) {
      idOf(id, "enclave_id");
      const row = await sql.get(
        "SELECT * FROM licensing_enclaves WHERE id = ? AND user_name = ? AND state = 'ready'",
        [id, user],
      );
      const e = row === undefined ? undefined : recordOf(row);
      if (e?.certificate === undefined)
        throw new KeywardError("ERR_LICENSING_ENCLAVE_NOT_FOUND", "no running enclave of yours has this id");
      return { ...e, certificate: e.certificate };
    },

    async stop(user, id) {
      idOf(id, "enclave_id");
      const row = await sql.get(
        `SELECT * FROM licensing_enclaves WHERE id = ? AND user_name = ? AND ${ACTIVE}`,
        [id, user],
      );
      if (row === undefined)
        throw new KeywardError("ERR_LICENSING_ENCLAVE_NOT_FOUND", "no running enclave of yours has this id");
      const e = recordOf(row);
      await stopRecord(e, "requested");
      return { ...e, state: "stopped" };
    },

    async stopFamily(family, reason) {
      const rows = await sql.all(`SELECT * FROM licensing_enclaves WHERE family = ? AND ${ACTIVE}`, [family]);
      for (const r of rows) await stopRecord(recordOf(r), reason);
      return rows.length;
    },

    async sweep() {
      const nowMs = d.now().getTime();
      const rows = await sql.all(
        "SELECT e.*, l.revoked_at AS licence_revoked, l.expires_at AS licence_expires, f.revoked_at AS family_revoked " +
          "FROM licensing_enclaves e JOIN licensing_licences l ON l.id = e.licence_id " +
          "JOIN licensing_families f ON f.id = e.family " +
          "WHERE e.state IN ('starting', 'ready') AND (l.revoked_at <> 0 OR l.expires_at <= ? OR f.revoked_at <> 0)",
        [nowMs],
      );
      for (const r of rows) {
        const reason: StopReason =
          Number(r.licence_revoked) !== 0
            ? "revoked"
            : Number(r.licence_expires) <= nowMs
              ? "expired"
              : "logout";
        await stopRecord(recordOf(r), reason).catch((e: unknown) => {
          if (!isKeywardError(e)) throw e;
        });
      }
      return rows.length;
    },

    async collectOrphans() {
      const nowMs = d.now().getTime();
      const stopped = await d.launcher.collectOrphans(async (i) => {
        const row = await sql.get(
          "SELECT e.id FROM licensing_enclaves e JOIN licensing_licences l ON l.id = e.licence_id " +
            "JOIN licensing_families f ON f.id = e.family " +
            "WHERE e.launcher_ref = ? AND e.state IN ('starting', 'ready') AND l.revoked_at = 0 AND l.expires_at > ? AND f.revoked_at = 0",
          [i.id, nowMs],
        );
        return row !== undefined;
      });
      const alive = new Set((await d.launcher.list()).map((i) => i.id));
      const rows = await sql.all(`SELECT * FROM licensing_enclaves WHERE ${ACTIVE}`);
      let forgotten = 0;
      for (const r of rows) {
        const e = recordOf(r);
        // A launch another replica is starting has no launcher id yet: leave it its start-up time.
        const starting = e.launcherRef === "" && e.createdAt > nowMs - 120_000;
        if (!starting && !alive.has(e.launcherRef)) {
          forgotten += await sql.run(
            `UPDATE licensing_enclaves SET state = 'stopped', stopped_at = ?, stop_reason = 'orphaned' WHERE id = ? AND ${ACTIVE}`,
            [nowMs, e.id],
          );
        }
      }
      return stopped.length + forgotten;
    },
  };
}

/** SHA-256 of a certificate's DER, hex. */
export function certificateSha256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}
