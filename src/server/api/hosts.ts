/**
 * @module server/api/hosts
 * The distributed internal check: hosts push what their ACME clients hold, and ask whether CT
 * shows a certificate for their names that they did not obtain.
 *
 * - `PUT /api/v1/hosts/:host/inventory` (`certvigil inventory push`): replaces the host's items.
 *   Least privilege: an API token only (a browser session may not push); a viewer token only for
 *   the host equal to its token name, an admin token for any host. Checked before the body is read.
 * - `GET /api/v1/hosts`: every host that pushed, with its item count and last push.
 * - `GET /api/v1/hosts/:host/check` (`certvigil check internal`): see hosts-check.ts.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv, ServerDeps } from '../types.js';
import { checkHost } from './hosts-check.js';
import { canonicalHost, HOST_PUSH_BODY_LIMIT, parsePushBody } from './hosts-input.js';

const PUSH_PATH_RE = /^\/api\/v1\/hosts\/[^/]+\/inventory$/;

/**
 * Whether a request is a push, whose route sets its own (larger) body limit after checking who
 * asks: the app's default limit (app.ts) skips it.
 */
export function ownsBodyLimit(method: string, path: string): boolean {
  return method === 'PUT' && PUSH_PATH_RE.test(path);
}

function hostParam(c: Context<AppEnv>): string | null {
  return canonicalHost(c.req.param('host') ?? '');
}

/** Who may push for the host in the path (before the body is read: a refused push costs nothing). */
function mayPush(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const host = hostParam(c);
    if (host === null) return c.json({ error: 'invalid host name' }, 400);
    const p = c.get('principal');
    // A session is a person in a browser; pushing is a machine's job, with its own token.
    if (p === null || c.get('session') !== null || p.kind !== 'token')
      return c.json({ error: 'pushing an inventory needs an API token' }, 403);
    if (p.role !== 'admin' && p.name.toLowerCase() !== host)
      return c.json({ error: 'a viewer token may push only for the host named like the token' }, 403);
    return next();
  };
}

export function registerHostApi(app: Hono<AppEnv>, deps: ServerDeps): void {
  const now = deps.now ?? (() => new Date());

  app.put(
    '/api/v1/hosts/:host/inventory',
    mayPush(),
    bodyLimit({
      maxSize: HOST_PUSH_BODY_LIMIT,
      onError: (c) => c.json({ error: 'request body too large' }, 413),
    }),
    async (c) => {
      const host = hostParam(c) as string;
      if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json'))
        return c.json({ error: 'send the inventory as application/json' }, 415);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'invalid inventory: not JSON' }, 400);
      }
      const parsed = parsePushBody(body, host);
      if (!parsed.ok) return c.json({ error: parsed.error }, 400);
      const pushedAt = now().toISOString();
      await deps.store.replaceHostInventory(host, parsed.items, pushedAt);
      const principal = c.get('principal');
      deps.logger.info({ host, items: parsed.items.length, token: principal?.id }, 'host inventory pushed');
      return c.json({ host, items: parsed.items.length, pushedAt });
    },
  );

  app.get('/api/v1/hosts', async (c) => {
    const hosts = new Map<string, { host: string; items: number; pushedAt: string }>();
    for (const r of await deps.store.listHostInventory()) {
      const h = hosts.get(r.host) ?? { host: r.host, items: 0, pushedAt: r.pushedAt };
      h.items++;
      if (r.pushedAt > h.pushedAt) h.pushedAt = r.pushedAt;
      hosts.set(r.host, h);
    }
    return c.json({ hosts: [...hosts.values()].sort((a, b) => (a.host < b.host ? -1 : 1)) });
  });

  app.get('/api/v1/hosts/:host/check', async (c) => {
    const host = hostParam(c);
    if (host === null) return c.json({ error: 'invalid host name' }, 400);
    const result = await checkHost(deps.store, host, now());
    if (result === null) return c.json({ error: 'no inventory pushed for this host' }, 404);
    return c.json(result);
  });
}
