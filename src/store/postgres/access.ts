/**
 * @module store/postgres/access
 * Access control of the web server in PostgreSQL (migration 6): API tokens (by the SHA-256 of
 * their secret), users (scrypt strings), browser sessions (by the SHA-256 of their cookie ID).
 * Every argument is checked in web-codec.ts; a user's or a token's sessions end with it, in the
 * same transaction.
 */
import { checkHash } from '../codec.js';
import { POSTGRES_COLUMNS, SESSION_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS, accessRows } from '../rows.js';
import type { AccessControl } from '../roles/web.js';
import type { Row } from '../rows.js';
import * as web from '../web-codec.js';
import type { Sql } from './connection.js';

export function postgresAccess(sql: Sql): AccessControl {
  const read = accessRows(POSTGRES_COLUMNS);
  return {
    async createToken(token) {
      const t = web.checkToken(token);
      // DO NOTHING on either unique key, then tell: a clash is the caller's error, not a crash.
      const added = await sql`
      INSERT INTO api_tokens (${sql.unsafe(TOKEN_COLUMNS)})
      VALUES (${t.id}, ${t.name}, ${t.role}, ${t.tokenSha256}, ${t.createdAt}, ${t.expiresAt},
        ${t.revokedAt}, ${t.lastUsedAt})
      ON CONFLICT DO NOTHING`;
      if (added.count !== 1) throw web.tokenClash(t.id);
    },

    async findToken(tokenSha256) {
      const [r] = await sql<Row[]>`
      SELECT ${sql.unsafe(TOKEN_COLUMNS)} FROM api_tokens
      WHERE token_sha256 = ${checkHash('tokenSha256', tokenSha256)}`;
      return read.token.one(r);
    },

    async listTokens() {
      const rows = await sql<
        Row[]
      >`SELECT ${sql.unsafe(TOKEN_COLUMNS)} FROM api_tokens ORDER BY created_at, id`;
      return read.token.all(rows);
    },

    async revokeToken(id, at) {
      web.checkTokenId(id);
      web.checkIsoTime('at', at);
      return sql.begin(async (tx) => {
        // COALESCE: revoking again keeps the first revocation time (idempotent).
        const changed = await tx`
        UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ${at}::timestamptz) WHERE id = ${id}`;
        await tx`DELETE FROM sessions WHERE principal = ${web.tokenPrincipal(id)}`;
        return changed.count === 1;
      }) as Promise<boolean>;
    },

    async touchToken(id, at) {
      web.checkTokenId(id);
      // At most one write a minute per token, however often a client calls.
      await sql`
      UPDATE api_tokens SET last_used_at = ${at}
      WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < ${web.touchThreshold(at)})`;
    },

    async putUser(user) {
      const u = web.checkUser(user);
      await sql`
      INSERT INTO users (${sql.unsafe(USER_COLUMNS)}) VALUES (${u.name}, ${u.role}, ${u.passwordHash}, ${u.createdAt})
      ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,
        created_at = excluded.created_at`;
    },

    async getUser(name) {
      const [r] = await sql<Row[]>`
      SELECT ${sql.unsafe(USER_COLUMNS)} FROM users WHERE name = ${web.checkUserName(name)}`;
      return read.user.one(r);
    },

    async listUsers() {
      const rows = await sql<Row[]>`SELECT ${sql.unsafe(USER_COLUMNS)} FROM users ORDER BY name`;
      return read.user.all(rows);
    },

    async deleteUser(name) {
      web.checkUserName(name);
      return sql.begin(async (tx) => {
        await tx`DELETE FROM sessions WHERE principal = ${web.userPrincipal(name)}`;
        return (await tx`DELETE FROM users WHERE name = ${name}`).count === 1;
      }) as Promise<boolean>;
    },

    async createSession(session) {
      const s = web.checkSession(session);
      const added = await sql`
      INSERT INTO sessions (${sql.unsafe(SESSION_COLUMNS)})
      VALUES (${s.idSha256}, ${s.principal}, ${s.role}, ${s.csrfToken}, ${s.createdAt}, ${s.expiresAt})
      ON CONFLICT DO NOTHING`;
      if (added.count !== 1) throw web.sessionClash();
    },

    async getSession(idSha256) {
      const [r] = await sql<Row[]>`
      SELECT ${sql.unsafe(SESSION_COLUMNS)} FROM sessions WHERE id_sha256 = ${checkHash('idSha256', idSha256)}`;
      return read.session.one(r);
    },

    async deleteSession(idSha256) {
      await sql`DELETE FROM sessions WHERE id_sha256 = ${checkHash('idSha256', idSha256)}`;
    },

    async deleteExpiredSessions(now) {
      const deleted = await sql`DELETE FROM sessions WHERE expires_at < ${web.checkIsoTime('now', now)}`;
      return deleted.count;
    },
  };
}
