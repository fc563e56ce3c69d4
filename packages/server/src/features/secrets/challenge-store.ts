/**
 * The challenge path's nonces and tokens in the store (the secrets feature's tables), so that any
 * replica behind a load balancer serves any step: a nonce from replica A is answered at B, and the
 * token B issued is redeemed at A. Single use is one `DELETE … WHERE id = ? RETURNING` on either
 * engine: of two replicas (or two requests) taking the same nonce or token, exactly one gets the
 * row; the other finds it gone.
 *
 * Rows are keyed by SHA-256 of the nonce or token, so the database holds neither bearer value. A
 * token's row (the verified caller's claims record and its ephemeral JWK) is sealed with the
 * master key under AAD = "keyward-challenge-token" ‖ 0x00 ‖ key: a row written or edited by
 * someone who can write the database but lacks the master key does not open, so it releases
 * nothing.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { KeywardError } from "@keyward/attest/errors";
import { type ClaimsRecord, claimsRecord, verifiedFromRecord } from "@keyward/attest/evidence";
import { gcmOpen, gcmSeal } from "../../kernel/envelope.ts";
import type { RecipientJwk } from "../../kernel/jwe.ts";
import { type Caller, callerOf } from "../../kernel/subject.ts";
import type { Migration } from "../../store/migrations.ts";
import type { Sql } from "../../store/sql.ts";

/** The secrets feature's tables (owner `secrets`). */
export const CHALLENGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (d) => `
      CREATE TABLE challenge_nonces (
        id TEXT PRIMARY KEY,
        expires_ms BIGINT NOT NULL
      );
      CREATE INDEX challenge_nonces_expiry ON challenge_nonces (expires_ms);
      CREATE TABLE challenge_tokens (
        id TEXT PRIMARY KEY,
        sealed ${d.bytes} NOT NULL,
        expires_ms BIGINT NOT NULL
      );
      CREATE INDEX challenge_tokens_expiry ON challenge_tokens (expires_ms);`,
  },
];

/** Most nonces that may wait for their Attest at once (a bound on unauthenticated state). */
export const MAX_OPEN_NONCES = 100_000;

/** What a token stands for: the verified caller and the key its secrets are encrypted to. */
export interface TokenGrant {
  readonly caller: Caller;
  readonly epk: RecipientJwk;
}

const keyOf = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const aadOf = (id: string) => new TextEncoder().encode(`keyward-challenge-token\u0000${id}`);

/** Nonces and tokens of the challenge path, shared by every replica on the store. */
export class ChallengeStore {
  readonly #sql: Sql;
  readonly #masterKey: Uint8Array;
  #sweptAt = Number.NEGATIVE_INFINITY;
  constructor(sql: Sql, masterKey: Uint8Array) {
    this.#sql = sql;
    this.#masterKey = masterKey;
  }

  /**
   * Records a fresh nonce valid until `expiresMs` (ms since the epoch); expired rows are dropped first.
   * @throws ERR_SERVICE_REQUEST_INVALID when {@link MAX_OPEN_NONCES} are outstanding
   */
  async addNonce(nonce: Uint8Array, nowMs: number, expiresMs: number): Promise<void> {
    // Expired rows go at most once a second per replica: a burst of challenges costs no sweeps.
    if (nowMs - this.#sweptAt >= 1000) {
      this.#sweptAt = nowMs;
      await this.sweep(nowMs);
    }
    const open = await this.#sql.get("SELECT COUNT(*) AS n FROM challenge_nonces");
    if (Number(open?.n ?? 0) >= MAX_OPEN_NONCES)
      throw new KeywardError(
        "ERR_SERVICE_REQUEST_INVALID",
        "too many outstanding challenges; try again later",
      );
    await this.#sql.run("INSERT INTO challenge_nonces (id, expires_ms) VALUES (?, ?)", [
      keyOf(nonce),
      expiresMs,
    ]);
  }

  /**
   * Takes a nonce, once across replicas, whatever happens next.
   * @throws ERR_SERVICE_CHALLENGE_INVALID (unknown, already used, expired)
   */
  async takeNonce(nonce: Uint8Array, nowMs: number): Promise<void> {
    const row = await this.#sql.get("DELETE FROM challenge_nonces WHERE id = ? RETURNING expires_ms", [
      keyOf(nonce),
    ]);
    if (row === undefined || Number(row.expires_ms) <= nowMs)
      throw new KeywardError("ERR_SERVICE_CHALLENGE_INVALID", "unknown, used or expired nonce");
  }

  /** Records a token for `grant`, valid until `expiresMs`. */
  async addToken(token: Uint8Array, grant: TokenGrant, expiresMs: number): Promise<void> {
    const id = keyOf(token);
    const body = JSON.stringify({ claims: claimsRecord(grant.caller.verified), epk: grant.epk });
    const sealed = gcmSeal(this.#masterKey, new TextEncoder().encode(body), aadOf(id));
    await this.#sql.run("INSERT INTO challenge_tokens (id, sealed, expires_ms) VALUES (?, ?, ?)", [
      id,
      sealed,
      expiresMs,
    ]);
  }

  /**
   * Takes a token, once across replicas, and returns what it stands for.
   * @throws ERR_SERVICE_CHALLENGE_INVALID (unknown, already used, expired, a row that does not open)
   */
  async takeToken(token: Uint8Array, nowMs: number): Promise<TokenGrant> {
    const id = keyOf(token);
    const row = await this.#sql.get(
      "DELETE FROM challenge_tokens WHERE id = ? RETURNING sealed, expires_ms",
      [id],
    );
    if (row === undefined || Number(row.expires_ms) <= nowMs)
      throw new KeywardError("ERR_SERVICE_CHALLENGE_INVALID", "unknown, used or expired token");
    try {
      const body = JSON.parse(
        new TextDecoder().decode(gcmOpen(this.#masterKey, row.sealed as Uint8Array, aadOf(id))),
      ) as { claims: ClaimsRecord; epk: RecipientJwk };
      return { caller: callerOf(verifiedFromRecord(body.claims), "challenge"), epk: body.epk };
    } catch (cause) {
      throw new KeywardError("ERR_SERVICE_CHALLENGE_INVALID", "the token's record does not authenticate", {
        cause,
      });
    }
  }

  /** Deletes expired nonces and tokens; resolves with how many. */
  async sweep(nowMs: number): Promise<number> {
    const n = await this.#sql.run("DELETE FROM challenge_nonces WHERE expires_ms <= ?", [nowMs]);
    return n + (await this.#sql.run("DELETE FROM challenge_tokens WHERE expires_ms <= ?", [nowMs]));
  }
}
