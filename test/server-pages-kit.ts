/**
 * What the page tests (route tests and the browser tests) share: an app over a real SQLite store
 * in a temporary state directory, filled through the store API (commitBatch), with a viewer and an
 * admin browser session made directly in the store (the cookie is what /login would set).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
// eslint-disable-next-line certvigil/no-deep-imports -- the session key as the server derives it (no caller makes sessions by hand)
import { secretHash } from '../src/server/auth/secrets.js';
import { createApp } from '../src/server/index.js';
import type { AppEnv, ServerDeps } from '../src/server/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of store's API
import { LOG_A, batch, ensureLogA, issuance, sha256Hex } from '../src/store/store.fixture.js';
import { openStore } from '../src/store/index.js';
import type { AccessRole, IssuanceInput, Store } from '../src/store/index.js';

export { LOG_A, issuance, sha256Hex };

export const silentLogger: ServerDeps['logger'] = { info() {}, warn() {}, error() {} };

export interface Session {
  cookie: string;
  csrf: string;
}

export interface PagesKit {
  app: Hono<AppEnv>;
  store: Store;
  dir: string;
  viewer: Session;
  admin: Session;
  /** Commits issuances to LOG_A in batches (positions continue from the last call). */
  add(issuances: IssuanceInput[]): Promise<void>;
  get(path: string, who?: Session | null): Promise<Response>;
  post(
    path: string,
    fields: Record<string, string>,
    who: Session | null,
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function createSession(store: Store, role: AccessRole, name: string): Promise<Session> {
  const cookie = randomBytes(24).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const now = Date.now();
  await store.createSession({
    idSha256: secretHash(cookie),
    principal: `user:${name}`,
    role,
    csrfToken: csrf,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3_600_000).toISOString(),
  });
  return { cookie, csrf };
}

/** `databaseUrl`: a PostgreSQL database instead of SQLite in the temporary directory. */
export async function makePagesKit(
  extra: Partial<ServerDeps> = {},
  options: { databaseUrl?: string } = {},
): Promise<PagesKit> {
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-pages-'));
  const store = await openStore({
    stateDir: join(dir, 'state'),
    ...(options.databaseUrl !== undefined ? { databaseUrl: options.databaseUrl } : {}),
  });
  await store.migrate();
  await ensureLogA(store);
  let position = 0;
  const app = createApp({ store, logger: silentLogger, secureCookies: false, ...extra });
  const viewer = await createSession(store, 'viewer', 'victor');
  const admin = await createSession(store, 'admin', 'alice');
  const headersOf = (who: Session | null | undefined): Record<string, string> =>
    who ? { cookie: `certvigil_session=${who.cookie}` } : {};
  return {
    app,
    store,
    dir,
    viewer,
    admin,
    async add(issuances) {
      for (let i = 0; i < issuances.length; i += 500) {
        const part = issuances.slice(i, i + 500).map((x, k) => ({ ...x, index: position + k }));
        await store.commitBatch(batch(LOG_A, position, position + part.length, { issuances: part }));
        position += part.length;
      }
    },
    get: (path, who = null) => Promise.resolve(app.request(path, { headers: headersOf(who) })),
    post: (path, fields, who, headers = {}) =>
      Promise.resolve(
        app.request(path, {
          method: 'POST',
          body: new URLSearchParams(fields).toString(),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            origin: 'http://localhost',
            ...headersOf(who),
            ...headers,
          },
        }),
      ),
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The visible text of an HTML answer, roughly (tags dropped, entities kept): for "is it shown" checks. */
export function textOf(htmlText: string): string {
  return htmlText.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');
}
