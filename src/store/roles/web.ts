/**
 * @module store/roles/web
 * What the web server keeps of its own (migration 6): who may come in (API tokens, users,
 * browser sessions) and the last CAA audit of each watched domain.
 */
import type { DomainAuditRecord, SessionRecord, TokenRecord, UserRecord } from '../types.js';

/**
 * Access control of the web server and HTTP API.
 *
 * Guarantees:
 * - Secrets are never stored: a token and a session are found by the SHA-256 of their secret, a
 *   password is an scrypt string.
 * - Every argument is checked before anything is written (STORE_INVALID_ARGUMENT), and text that
 *   passed is stored as given. Every time in this role is `Date.toISOString()` text (UTC,
 *   milliseconds); other forms are refused, so text order is time order on both engines.
 * - A token or session key already taken is refused, not overwritten (STORE_INVALID_ARGUMENT).
 * - Revoking a token or deleting a user ends its sessions in the same transaction as the
 *   revocation or deletion.
 * - Expiry is the caller's decision: `findToken` and `getSession` return expired and revoked
 *   records too.
 */
export interface AccessControl {
  /**
   * Stores a new token; an `id` or `tokenSha256` already stored is refused (STORE_INVALID_ARGUMENT).
   * `id` is 1..64 of [A-Za-z0-9._@-]; `name` 0..100 characters without control or format
   * characters, stored as given. Every time in this interface (here and below) is
   * `Date.toISOString()` text (UTC, milliseconds); any other form is refused.
   */
  createToken(token: TokenRecord): Promise<void>;
  /** The token whose secret hashes to `tokenSha256`, revoked or expired included (the caller decides). */
  findToken(tokenSha256: string): Promise<TokenRecord | null>;
  /** Every token, by `createdAt` then id. */
  listTokens(): Promise<TokenRecord[]>;
  /**
   * Marks the token revoked at `at` and ends its sessions (`token:ID`); false when no such token.
   * Idempotent: revoking again keeps the first `revokedAt`.
   */
  revokeToken(id: string, at: string): Promise<boolean>;
  /**
   * Records the last use (at most once a minute is enough; callers may call on every request):
   * written only when there is none yet or it is more than a minute before `at`.
   */
  touchToken(id: string, at: string): Promise<void>;

  /** Creates or replaces the user `user.name` (1..64 of [A-Za-z0-9._@-]). */
  putUser(user: UserRecord): Promise<void>;
  getUser(name: string): Promise<UserRecord | null>;
  /** Every user, by name. */
  listUsers(): Promise<UserRecord[]>;
  /** False when no such user. Also deletes the user's sessions. */
  deleteUser(name: string): Promise<boolean>;

  /** Refuses an `idSha256` already stored; `csrfToken` is 16..200 base64 or base64url characters. */
  createSession(session: SessionRecord): Promise<void>;
  /** The session, expired included (the caller checks `expiresAt`). */
  getSession(idSha256: string): Promise<SessionRecord | null>;
  /** Deletes the session (nothing when there is none). */
  deleteSession(idSha256: string): Promise<void>;
  /** Deletes sessions whose `expiresAt` is before `now`; returns how many. */
  deleteExpiredSessions(now: string): Promise<number>;
}

/**
 * The last CAA audit of each watched domain.
 *
 * Guarantees: one upsert per domain (the last audit replaces the previous one); `resultJson` must
 * parse as JSON, holds at most 1,000,000 characters and no U+0000, and is returned character for
 * character. The list is ordered by domain.
 */
export interface DomainAudits {
  /**
   * Records the last CAA audit of `domain` (replaces the previous one). `domain` as a page's `name`;
   * `resultJson` must parse as JSON and is returned character for character.
   */
  putDomainAudit(record: DomainAuditRecord): Promise<void>;
  listDomainAudits(): Promise<DomainAuditRecord[]>;
}
