/**
 * KBS sessions in the store (the feature's own table), so that any replica serves any step of
 * the protocol: `/auth` creates a session (its id is the `kbs-session-id` cookie) holding the TEE
 * and the nonce; `/attest` consumes the challenge atomically — one `UPDATE … WHERE state =
 * 'challenged' RETURNING` on either engine, so a replayed or concurrent Attestation finds the
 * session already taken — and, once the evidence verified, stores the token; a resource request
 * with the cookie reads the token back.
 *
 * Rows: id (32 hex), tee, nonce (base64), state (`challenged` → `attesting` → `attested`, or
 * deleted), token (the attestation token, once attested), expires_ms (ms since the epoch).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import type { Migration } from "../../store/migrations.ts";
import type { Sql } from "../../store/sql.ts";
import type { KbsTee } from "./protocol.ts";

/** The feature's tables. */
export const KBS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: () => `
      CREATE TABLE kbs_sessions (
        id TEXT PRIMARY KEY,
        tee TEXT NOT NULL,
        nonce TEXT NOT NULL,
        state TEXT NOT NULL,
        token TEXT,
        expires_ms BIGINT NOT NULL
      );
      CREATE INDEX kbs_sessions_expiry ON kbs_sessions (expires_ms);`,
  },
];

/** A challenged session. */
export interface ChallengedSession {
  readonly id: string;
  readonly tee: KbsTee;
  readonly nonce: string;
  readonly expiresMs: number;
}

/** Most sessions that may wait for their Attestation at once (a bound on unauthenticated state). */
export const MAX_OPEN_SESSIONS = 100_000;

const SESSION_ID = /^[0-9a-f]{32}$/;

/** The store-backed session table. */
export class KbsSessions {
  readonly #sql: Sql;
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /**
   * A new session with a fresh 32-byte nonce, valid until `expiresMs`.
   * @throws ERR_KBS_REQUEST_INVALID when too many sessions are open
   */
  async create(tee: KbsTee, nowMs: number, expiresMs: number): Promise<ChallengedSession> {
    await this.#sql.run("DELETE FROM kbs_sessions WHERE expires_ms <= ?", [nowMs]);
    const open = await this.#sql.get("SELECT COUNT(*) AS n FROM kbs_sessions WHERE state = 'challenged'");
    if (Number(open?.n ?? 0) >= MAX_OPEN_SESSIONS)
      throw new KeywardError("ERR_KBS_REQUEST_INVALID", "too many open KBS sessions; try again later");
    const session = {
      id: randomBytes(16).toString("hex"),
      tee,
      nonce: randomBytes(32).toString("base64"),
      expiresMs,
    };
    await this.#sql.run(
      "INSERT INTO kbs_sessions (id, tee, nonce, state, token, expires_ms) VALUES (?, ?, ?, 'challenged', NULL, ?)",
      [session.id, tee, session.nonce, expiresMs],
    );
    return session;
  }

  /**
   * Takes the session's challenge (once, across replicas): the session is then `attesting`, and a
   * second Attestation on it is refused.
   * @throws ERR_KBS_SESSION_INVALID (unknown, expired, already answered)
   */
  async takeChallenge(id: string | undefined, nowMs: number): Promise<ChallengedSession> {
    if (id === undefined || !SESSION_ID.test(id))
      throw new KeywardError("ERR_KBS_SESSION_INVALID", "no kbs-session-id cookie: POST /kbs/v0/auth first");
    const row = await this.#sql.get(
      "UPDATE kbs_sessions SET state = 'attesting' WHERE id = ? AND state = 'challenged' AND expires_ms > ? RETURNING tee, nonce, expires_ms",
      [id, nowMs],
    );
    if (row === undefined)
      throw new KeywardError(
        "ERR_KBS_SESSION_INVALID",
        "the session is unknown, expired, or its challenge was already answered: POST /kbs/v0/auth again",
      );
    return { id, tee: row.tee as KbsTee, nonce: String(row.nonce), expiresMs: Number(row.expires_ms) };
  }

  /** Records the token of an attested session (its cookie then authenticates resource requests). */
  async attested(id: string, token: string, expiresMs: number): Promise<void> {
    await this.#sql.run(
      "UPDATE kbs_sessions SET state = 'attested', token = ?, expires_ms = ? WHERE id = ? AND state = 'attesting'",
      [token, expiresMs, id],
    );
  }

  /** Ends a session whose attestation failed (its nonce is spent either way). */
  async failed(id: string): Promise<void> {
    await this.#sql.run("DELETE FROM kbs_sessions WHERE id = ?", [id]);
  }

  /** The token of an attested, unexpired session, or undefined. */
  async tokenOf(id: string | undefined, nowMs: number): Promise<string | undefined> {
    if (id === undefined || !SESSION_ID.test(id)) return undefined;
    const row = await this.#sql.get(
      "SELECT token FROM kbs_sessions WHERE id = ? AND state = 'attested' AND expires_ms > ?",
      [id, nowMs],
    );
    return typeof row?.token === "string" ? row.token : undefined;
  }

  /** Deletes expired sessions; returns how many. */
  sweep(nowMs: number): Promise<number> {
    return this.#sql.run("DELETE FROM kbs_sessions WHERE expires_ms <= ?", [nowMs]);
  }
}
