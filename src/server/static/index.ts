/**
 * @module server/static
 * The stylesheet and the small progressive-enhancement script, served from memory (assets.ts)
 * with an ETag and a short public cache lifetime: they hold nothing about the monitor, and a new
 * version must reach browsers soon after an upgrade.
 */
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import type { AppEnv } from '../types.js';
import { APP_CSS, APP_JS, FAVICON_SVG } from './assets.js';

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export function registerStatic(app: Hono<AppEnv>): void {
  const assets: Record<string, Asset> = {
    '/static/app.css': asset(APP_CSS, 'text/css; charset=utf-8'),
    '/static/app.js': asset(APP_JS, 'text/javascript; charset=utf-8'),
    '/static/favicon.svg': asset(FAVICON_SVG, 'image/svg+xml'),
  };
  for (const [path, a] of Object.entries(assets)) {
    app.get(path, (c) => {
      c.header('Cache-Control', 'public, max-age=3600');
      c.header('ETag', a.etag);
      if (c.req.header('if-none-match') === a.etag) return c.body(null, 304);
      c.header('Content-Type', a.type);
      return c.body(a.body);
    });
  }
}
