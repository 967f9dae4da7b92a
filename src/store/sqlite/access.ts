/**
 * @module store/sqlite/access
 * Access control of the web server in SQLite (migration 6): API tokens (by the SHA-256 of their
 * secret), users (scrypt strings), browser sessions (by the SHA-256 of their cookie ID). Every
 * argument is checked in web-codec.ts; a user's or a token's sessions end with it, in the same
 * IMMEDIATE transaction.
 */
import { checkHash } from '../codec.js';
import { SQLITE_COLUMNS, SESSION_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS, accessRows } from '../rows.js';
import type { AccessControl } from '../roles/web.js';
import type { Row } from '../rows.js';
import * as web from '../web-codec.js';
import type { SqliteConnection } from './connection.js';

export function sqliteAccess(c: SqliteConnection): AccessControl {
  const read = accessRows(SQLITE_COLUMNS);
  return {
    async createToken(token) {
      const t = web.checkToken(token);
      // DO NOTHING on either unique key, then tell: a clash is the caller's error, not a crash.
      const added = c
        .stmt(
          `INSERT INTO api_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(t.id, t.name, t.role, t.tokenSha256, t.createdAt, t.expiresAt, t.revokedAt, t.lastUsedAt);
      if (added.changes !== 1) throw web.tokenClash(t.id);
    },

    async findToken(tokenSha256) {
      const r = c
        .stmt(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_sha256 = ?`)
        .get(checkHash('tokenSha256', tokenSha256)) as Row | undefined;
      return read.token.one(r);
    },

    async listTokens() {
      const rows = c.stmt(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id`).all() as Row[];
      return read.token.all(rows);
    },

    async revokeToken(id, at) {
      web.checkTokenId(id);
      web.checkIsoTime('at', at);
      const revoke = c.db.transaction((): boolean => {
        // COALESCE: revoking again keeps the first revocation time (idempotent).
        const changed = c
          .stmt('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
          .run(at, id);
        c.stmt('DELETE FROM sessions WHERE principal = ?').run(web.tokenPrincipal(id));
        return changed.changes === 1;
      });
      return revoke.immediate();
    },

    async touchToken(id, at) {
      web.checkTokenId(id);
      // At most one write a minute per token, however often a client calls.
      c.stmt(
        'UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
      ).run(at, id, web.touchThreshold(at));
    },

    async putUser(user) {
      const u = web.checkUser(user);
      c.stmt(
        `INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,
           created_at = excluded.created_at`,
      ).run(u.name, u.role, u.passwordHash, u.createdAt);
    },

    async getUser(name) {
      const r = c.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`).get(web.checkUserName(name)) as
        Row | undefined;
      return read.user.one(r);
    },

    async listUsers() {
      const rows = c.stmt(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`).all() as Row[];
      return read.user.all(rows);
    },

    async deleteUser(name) {
      web.checkUserName(name);
      const remove = c.db.transaction((): boolean => {
        c.stmt('DELETE FROM sessions WHERE principal = ?').run(web.userPrincipal(name));
        return c.stmt('DELETE FROM users WHERE name = ?').run(name).changes === 1;
      });
      return remove.immediate();
    },

    async createSession(session) {
      const s = web.checkSession(session);
      const added = c
        .stmt(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
        .run(s.idSha256, s.principal, s.role, s.csrfToken, s.createdAt, s.expiresAt);
      if (added.changes !== 1) throw web.sessionClash();
    },

    async getSession(idSha256) {
      const r = c
        .stmt(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id_sha256 = ?`)
        .get(checkHash('idSha256', idSha256)) as Row | undefined;
      return read.session.one(r);
    },

    async deleteSession(idSha256) {
      c.stmt('DELETE FROM sessions WHERE id_sha256 = ?').run(checkHash('idSha256', idSha256));
    },

    async deleteExpiredSessions(now) {
      // Text order is time order for the one ISO form checkIsoTime admits.
      return c.stmt('DELETE FROM sessions WHERE expires_at < ?').run(web.checkIsoTime('now', now)).changes;
    },
  };
}
