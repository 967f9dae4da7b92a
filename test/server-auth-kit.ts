/**
 * What the access-control tests of `certvigil serve` share: an app over a real SQLite store in a
 * temporary state directory, with a viewer and an admin token, an expired and a revoked token, a
 * user, and a clock the test moves.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp, hashPassword, newToken } from '../src/server/index.js';
import type { AppEnv, ServerDeps } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import type { AccessRole, Store } from '../src/store/index.js';

export const T0 = new Date('2026-12-07T12:00:00.000Z');
export const USER_PASSWORD = 'correct horse battery staple';
export const ORIGIN = 'http://localhost';

export interface Kit {
  app: Hono<AppEnv>;
  store: Store;
  tokens: Record<'viewer' | 'admin' | 'expired' | 'revoked', { token: string; id: string }>;
  /** The clock the app reads; tests set it. */
  clock: { now: Date };
  close(): Promise<void>;
}

export const silentLogger: ServerDeps['logger'] = { info() {}, warn() {}, error() {} };

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export async function makeKit(
  options: { secureCookies?: boolean; sessionTtlMs?: number } = {},
): Promise<Kit> {
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-server-auth-'));
  const store = await openStore({ stateDir: join(dir, 'state') });
  await store.migrate();
  const clock = { now: T0 };
  const add = async (
    role: AccessRole,
    extra: { expiresAt?: string | null; revokedAt?: string | null } = {},
  ): Promise<{ token: string; id: string }> => {
    const t = newToken();
    await store.createToken({
      id: t.id,
      name: `${role} token`,
      role,
      tokenSha256: t.tokenSha256,
      createdAt: new Date(T0.getTime() - 86_400_000).toISOString(),
      expiresAt: extra.expiresAt ?? null,
      revokedAt: extra.revokedAt ?? null,
      lastUsedAt: null,
    });
    return { token: t.token, id: t.id };
  };
  const tokens = {
    viewer: await add('viewer'),
    admin: await add('admin'),
    expired: await add('admin', { expiresAt: new Date(T0.getTime() - 1000).toISOString() }),
    revoked: await add('admin', { revokedAt: new Date(T0.getTime() - 1000).toISOString() }),
  };
  await store.putUser({
    name: 'alice',
    role: 'admin',
    passwordHash: await hashPassword(USER_PASSWORD),
    createdAt: T0.toISOString(),
  });
  await store.putUser({
    name: 'victor',
    role: 'viewer',
    passwordHash: await hashPassword(USER_PASSWORD),
    createdAt: T0.toISOString(),
  });
  const app = createApp({
    store,
    logger: silentLogger,
    now: () => clock.now,
    secureCookies: options.secureCookies ?? false,
    ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
  });
  return {
    app,
    store,
    tokens,
    clock,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A request from a socket peer (what `getConnInfo` reads under @hono/node-server). */
export function fromAddress(address: string): { incoming: { socket: { remoteAddress: string } } } {
  return { incoming: { socket: { remoteAddress: address } } };
}

export function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  };
}

/** The session cookie's value from a login answer, or null. */
export function sessionOf(res: Response): string | null {
  const m = /certvigil_session=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
  return m?.[1] ? m[1] : null;
}

/** Logs in through POST /login and returns the cookie value. */
export async function login(
  kit: Kit,
  fields: Record<string, string>,
  address = '192.0.2.10',
): Promise<string> {
  const res = await kit.app.request('/login', form(fields, { origin: ORIGIN }), fromAddress(address));
  const cookie = sessionOf(res);
  if (res.status !== 303 || cookie === null) throw new Error(`login failed: ${res.status}`);
  return cookie;
}
