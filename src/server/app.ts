/**
 * @module server/app
 * The web server and HTTP API as one hono app (`createApp`), independent of how it listens
 * (`listen.ts`) so that tests call `app.request()` and the daemon can mount it beside the monitor.
 *
 * Order matters: security headers on every answer; then who is asking (`authenticate`); the public
 * routes (`/healthz`, the login page, the stylesheet and script); then nothing without a principal
 * (`requireAuth`) and no state change without the CSRF token (`csrfProtection`); then the API,
 * `/metrics` and the pages.
 *
 * Why hono: it is small (no dependencies), typed end to end, built on the web-standard Request and
 * Response (so the same app runs under node:http, node:https and in tests without a socket), and
 * ships the pieces this needs (cookies, secure headers, body limits, an auto-escaping `html`
 * template). fastify would also do, with more to configure and a plugin system we do not need.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate, csrfProtection, requireAuth } from './auth/middleware.js';
import { registerLogin } from './auth/login.js';
import { registerApi } from './api/index.js';
import { ownsBodyLimit } from './api/hosts.js';
import { registerMetrics } from './metrics/index.js';
import { registerPages } from './pages/index.js';
import { registerStatic } from './static/index.js';
import type { AppEnv, ServerDeps } from './types.js';

/** Request bodies above this are refused (413) before they are read; the inventory push sets its own. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function createApp(deps: ServerDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(
    '*',
    secureHeaders({
      // No inline script or style anywhere: every value from a certificate or a report is text,
      // and even if escaping failed somewhere, the browser would not run it.
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      xFrameOptions: 'DENY',
      // Not no-referrer: under it a browser sends `Origin: null` on our own form POSTs (Fetch "append a
      // request Origin header"), which the CSRF check refuses; same-origin keeps the Origin of our
      // own requests and still sends no referrer to other sites.
      referrerPolicy: 'same-origin',
      crossOriginResourcePolicy: 'same-origin',
      strictTransportSecurity: deps.secureCookies ? 'max-age=31536000' : false,
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    // Pages and API answers hold what the monitor knows: no shared or browser cache keeps them.
    if (!c.res.headers.has('cache-control')) c.header('Cache-Control', 'no-store');
  });
  const defaultBodyLimit = bodyLimit({
    maxSize: DEFAULT_BODY_LIMIT,
    onError: (c) => c.json({ error: 'request body too large' }, 413),
  });
  // The inventory push sets its own limit after checking who asks (api/hosts.ts).
  app.use('*', (c, next) => (ownsBodyLimit(c.req.method, c.req.path) ? next() : defaultBodyLimit(c, next)));
  app.use('*', authenticate(deps));

  app.get('/healthz', (c) => c.text('ok\n'));
  registerStatic(app);
  registerLogin(app, deps);

  app.use('*', requireAuth());
  app.use('*', csrfProtection());
  registerApi(app, deps);
  registerMetrics(app, deps);
  registerPages(app, deps);

  app.notFound((c) =>
    c.req.path.startsWith('/api/') ? c.json({ error: 'not found' }, 404) : c.text('not found\n', 404),
  );
  app.onError((err, c) => {
    deps.logger.error({ err, path: c.req.path }, 'request failed');
    return c.req.path.startsWith('/api/')
      ? c.json({ error: 'internal error' }, 500)
      : c.text('internal error\n', 500);
  });
  return app;
}
