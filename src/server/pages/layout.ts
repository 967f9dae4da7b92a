/**
 * @module server/pages/layout
 * The frame every page shares (landmarks, navigation, who is signed in, the logout form) and the
 * small helpers the pages render with.
 *
 * Escaping: hono's `html` template escapes every interpolated string (`& < > " '`), so a value is
 * text wherever it lands, attribute values included (they are always double-quoted here). On top
 * of that, every value that came from outside goes through `text()` (sanitizeText): bidi overrides
 * (CVE-2021-42574), control and zero-width characters become visible escapes, and very long values
 * are cut, so a certificate cannot make a name *look* like another or bury the page.
 *
 * No inline script or style anywhere: the CSP is `script-src 'self'; style-src 'self'`
 * (server/app.ts); the look lives in /static/app.css and the few enhancements in /static/app.js.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { sanitizeText } from '../../sanitize.js';
import type { AppEnv, Principal } from '../types.js';

export type Html = ReturnType<typeof html>;

/** Longest outside value shown on a page (a name, an issuer, an error); longer ones end in `…`. */
export const MAX_TEXT = 300;

/** Outside text, made safe to show: sanitised and cut (escaping is the template's job). */
export function text(value: string | null | undefined, maxLength = MAX_TEXT): string {
  if (value === null || value === undefined) return '';
  return sanitizeText(value, { maxLength });
}

/** An ISO time as `YYYY-MM-DD HH:MM UTC`, in a <time> that app.js may annotate with "3 h ago". */
export function time(iso: string | null | undefined): Html {
  if (iso === null || iso === undefined || iso === '') return html`<span class="muted">never</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${text(iso, 40)}`;
  const shown = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${d.toISOString()}">${shown}</time>`;
}

/** A date only (validity bounds). */
export function day(iso: string): Html {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${text(iso, 40)}`;
  return html`<time datetime="${d.toISOString()}" class="date">${d.toISOString().slice(0, 10)}</time>`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A severity or status badge; `kind` picks the colour and is always one of ours (never outside text). */
export function badge(label: string, kind: string): Html {
  const cls = /^[a-z-]{1,20}$/.test(kind) ? kind : 'info';
  return html`<span class="badge badge-${cls}">${text(label, 40)}</span>`;
}

export interface NavItem {
  href: string;
  label: string;
}

export const NAV: readonly NavItem[] = [
  { href: '/', label: 'Overview' },
  { href: '/certificates', label: 'Certificates' },
  { href: '/domains', label: 'Domains' },
  { href: '/iodef', label: 'iodef reports' },
  { href: '/mitm', label: 'MITM baselines' },
  { href: '/alerts', label: 'Alerts' },
];

function navCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

/** The CSRF token of the browser session, for the forms (a Bearer request needs none). */
export function csrfOf(c: Context<AppEnv>): string {
  return c.get('session')?.csrfToken ?? '';
}

export function csrfField(c: Context<AppEnv>): Html {
  return html`<input type="hidden" name="_csrf" value="${csrfOf(c)}" />`;
}

export function isAdmin(c: Context<AppEnv>): boolean {
  return c.get('principal')?.role === 'admin';
}

function who(p: Principal | null): Html {
  if (p === null) return html``;
  const kind = p.kind === 'token' ? 'token' : 'user';
  return html`<span class="who"
    >Signed in as <strong>${text(p.name, 80)}</strong> (${kind}, ${p.role})</span
  >`;
}

export interface PageOptions {
  title: string;
  body: Html;
}

/** The whole document. `title` is ours or sanitised text. */
export function page(c: Context<AppEnv>, opts: PageOptions): Html {
  const path = c.req.path;
  const principal = c.get('principal');
  const session = c.get('session');
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${opts.title} · certvigil</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/app.css" />
        <script src="/static/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <div class="brand"><a href="/">certvigil</a></div>
          <nav aria-label="Main">
            <ul>
              ${NAV.map(
                (n) =>
                  html`<li>
                    <a href="${n.href}" ${navCurrent(path, n.href) ? html` aria-current="page"` : ''}
                      >${n.label}</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>
          <div class="account">
            ${who(principal)}
            ${
              session !== null
                ? html`<form method="post" action="/logout" class="inline">
                    ${csrfField(c)}<button type="submit">Log out</button>
                  </form>`
                : ''
            }
          </div>
        </header>
        <main id="main" tabindex="-1">
          <h1>${opts.title}</h1>
          ${opts.body}
        </main>
        <footer>
          <p>certvigil — Certificate Transparency and CAA monitor. Every page works without JavaScript.</p>
        </footer>
      </body>
    </html>`;
}

/** A page saying what went wrong (404, a bad query) with the right status. */
export function errorPage(
  c: Context<AppEnv>,
  status: 400 | 403 | 404 | 502,
  title: string,
  message: string,
): Response | Promise<Response> {
  return c.html(page(c, { title, body: html`<p class="notice" role="alert">${text(message)}</p>` }), status);
}

/** Parses a bounded positive integer query parameter (a bad one gives the default: a page never errs on it). */
export function intParam(value: string | undefined, dflt: number, max: number): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return dflt;
  const n = Number(value);
  return n >= 1 && n <= max ? n : dflt;
}

/** A link with query parameters (undefined/empty ones left out). */
export function hrefWith(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}
