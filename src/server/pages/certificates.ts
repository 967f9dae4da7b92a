/**
 * @module server/pages/certificates
 * `/certificates` (search, filters, keyset pages), `/certificates/:hash` (one issuance: names,
 * issuer, validity, key, every log entry, reasons, authorisations, PEM link) and the admin's
 * `POST /certificates/:hash/authorize` (store.authorize, as `certs authorize`).
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { issuanceViews } from '../../monitor/index.js';
import type { IssuanceView } from '../../monitor/index.js';
import { requireRole } from '../auth/middleware.js';
import type { AppEnv, ServerDeps } from '../types.js';
import { decodeCursor, encodeCursor, parseCertQuery, scanPage } from './cert-query.js';
import type { CertFilter, ScanResult } from './cert-query.js';
import type { ViewContextCache } from './context.js';
import { badge, count, csrfField, day, errorPage, hrefWith, isAdmin, page, text, time } from './layout.js';
import type { Html } from './layout.js';

/** Names shown in a row before "+N more" (a certificate may carry hundreds). */
const ROW_NAMES = 4;

export function severityKind(v: IssuanceView): string {
  return v.known
    ? 'ok'
    : v.severity === 'critical'
      ? 'critical'
      : v.severity === 'warning'
        ? 'warning'
        : 'info';
}

export function statusBadge(v: IssuanceView): Html {
  return v.known ? badge('known', 'ok') : badge(`unknown · ${v.severity}`, severityKind(v));
}

function nameList(names: readonly string[]): Html {
  const shown = names.slice(0, ROW_NAMES);
  const more = names.length - shown.length;
  return html`<ul class="names">
    ${shown.map((n) => html`<li>${text(n, 260)}</li>`)}${
      more > 0 ? html`<li class="muted">+${more} more</li>` : ''
    }
  </ul>`;
}

function reasonCodes(v: IssuanceView): Html {
  if (v.reasons.length === 0) return html`<span class="muted">—</span>`;
  return html`<ul class="codes">
    ${v.reasons.map(
      (r) =>
        html`<li>
          <code
            class="reason reason-${r.severity === 'critical' ? 'critical' : r.severity === 'warning' ? 'warning' : 'info'}"
            >${text(r.code, 60)}</code
          >
        </li>`,
    )}
  </ul>`;
}

/** The table of issuances shared by /certificates, the overview and a domain's page. */
export function issuanceTable(views: readonly IssuanceView[], caption: string): Html {
  return html`<div class="table-wrap">
    <table class="certs">
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">Names</th>
          <th scope="col">Issuer</th>
          <th scope="col">Valid</th>
          <th scope="col">Status</th>
          <th scope="col">Reasons</th>
          <th scope="col">First seen</th>
        </tr>
      </thead>
      <tbody>
        ${views.map(
          (v) =>
            html`<tr class="${v.known ? 'known' : 'unknown'}">
              <td>
                <a class="detail" href="/certificates/${v.tbsSha256}">${nameList(v.dnsNames)}</a>
              </td>
              <td class="issuer">${text(v.issuer, 200)}</td>
              <td class="nowrap">${day(v.notBefore)} – ${day(v.notAfter)}</td>
              <td>${statusBadge(v)}</td>
              <td>${reasonCodes(v)}</td>
              <td class="nowrap">${time(v.firstSeen)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function filterForm(raw: Record<string, string | undefined>, f: CertFilter): Html {
  const opt = (value: string, label: string, current: string) =>
    html`<option value="${value}" ${value === current ? html` selected` : ''}>${label}</option>`;
  return html`<form method="get" action="/certificates" class="filters" role="search" data-autosubmit>
    <div class="field">
      <label for="q">Name (and below)</label>
      <input
        id="q"
        name="q"
        type="search"
        value="${text(raw['q'] ?? '', 260)}"
        placeholder="%.example.com"
        autocomplete="off"
      />
    </div>
    <div class="field">
      <label for="known">Status</label>
      <select id="known" name="known">
        ${opt('all', 'all', f.known)}${opt('unknown', 'unknown', f.known)}${opt('known', 'known', f.known)}
      </select>
    </div>
    <div class="field">
      <label for="severity">Severity</label>
      <select id="severity" name="severity">
        ${opt('any', 'any', f.severity)}${opt('critical', 'critical', f.severity)}${opt('warning', 'warning', f.severity)}${opt('info', 'info', f.severity)}
      </select>
    </div>
    <div class="field">
      <label for="issuer">Issuer contains</label>
      <input id="issuer" name="issuer" type="text" value="${text(f.issuer, 200)}" />
    </div>
    <div class="field">
      <label for="from">Valid from on or after</label>
      <input id="from" name="from" type="date" value="${f.from ?? ''}" />
    </div>
    <div class="field">
      <label for="to">Valid from on or before</label>
      <input id="to" name="to" type="date" value="${f.to ?? ''}" />
    </div>
    <div class="field"><button type="submit">Search</button></div>
  </form>`;
}

function pager(raw: Record<string, string | undefined>, r: ScanResult): Html {
  const keep = { ...raw, older: undefined, newer: undefined };
  const newer =
    r.newer !== null ? hrefWith('/certificates', { ...keep, newer: encodeCursor(r.newer) }) : null;
  const older =
    r.older !== null ? hrefWith('/certificates', { ...keep, older: encodeCursor(r.older) }) : null;
  return html`<nav class="pager" aria-label="Pages">
    ${newer !== null ? html`<a href="${newer}" rel="prev">← Newer</a>` : html`<span class="muted">← Newer</span>`}
    <a href="${hrefWith('/certificates', keep)}">Newest</a>
    ${older !== null ? html`<a href="${older}" rel="next">Older →</a>` : html`<span class="muted">Older →</span>`}
  </nav>`;
}

async function listPage(c: Context<AppEnv>, deps: ServerDeps, contexts: ViewContextCache): Promise<Response> {
  const raw = c.req.query();
  const { filter, errors } = parseCertQuery(raw);
  const olderCursor = decodeCursor(raw['older']);
  const newerCursor = decodeCursor(raw['newer']);
  if (
    (raw['older'] !== undefined && olderCursor === null) ||
    (raw['newer'] !== undefined && newerCursor === null)
  )
    errors.push('the page link is not valid; showing the newest');
  const badName = (raw['q'] ?? '').trim() !== '' && filter.name === null;
  let result: ScanResult | null = null;
  let total: number | null = null;
  if (!badName) {
    const context = await contexts.get();
    result =
      newerCursor !== null
        ? await scanPage(deps.store, context, filter, 'newer', newerCursor)
        : await scanPage(deps.store, context, filter, 'older', olderCursor);
    total = await deps.store.countIssuances(filter.name ?? undefined);
  }
  const body = html`${filterForm(raw, filter)}
  ${errors.map((e) => html`<p class="notice" role="alert">${text(e)}</p>`)}
  ${
    result === null
      ? ''
      : html`<p class="summary">
            ${count(result.views.length)}
            shown${
              total !== null
                ? html` of ${count(total)}
                  issuance${total === 1 ? '' : 's'}${filter.name !== null ? html` for <strong>${text(filter.name)}</strong> and below` : ''}`
                : ''
            }${
              result.budgetHit
                ? html`. Looked through ${count(result.scanned)} issuances for this page; follow “Older” to
                  search on.`
                : ''
            }
          </p>
          ${result.views.length > 0 ? issuanceTable(result.views, 'Issuances, newest first') : html`<p>No issuance matches.</p>`}
          ${pager(raw, result)}`
  }`;
  return c.html(page(c, { title: 'Certificates', body }));
}

function detailBody(c: Context<AppEnv>, v: IssuanceView): Html {
  const admin = isAdmin(c);
  return html`<section aria-labelledby="facts">
      <h2 id="facts">Certificate</h2>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          ${statusBadge(v)}${v.knownBy !== null ? html` <span class="muted">(${text(v.knownBy, 100)})</span>` : ''}
        </dd>
        <dt>DNS names</dt>
        <dd>
          <ul class="names">
            ${v.dnsNames.map((n) => html`<li>${text(n, 260)}</li>`)}
          </ul>
        </dd>
        ${
          v.ipAddresses.length > 0
            ? html`<dt>IP addresses</dt>
                <dd>${v.ipAddresses.map((a) => html`<span class="chip">${text(a, 60)}</span> `)}</dd>`
            : ''
        }
        <dt>Issuer</dt>
        <dd>${text(v.issuer, 500)}</dd>
        <dt>Validity</dt>
        <dd>${time(v.notBefore)} to ${time(v.notAfter)}</dd>
        <dt>Serial</dt>
        <dd><code>${text(v.serial, 100)}</code></dd>
        <dt>Key</dt>
        <dd>${text(v.keyType, 60)}, SPKI SHA-256 <code class="hash">${text(v.spkiSha256, 64)}</code></dd>
        <dt>TBS SHA-256</dt>
        <dd><code class="hash">${v.tbsSha256}</code></dd>
        <dt>Certificate SHA-256</dt>
        <dd>${v.certSha256s.map((h) => html`<code class="hash">${text(h, 64)}</code> `)}</dd>
        <dt>First seen</dt>
        <dd>${time(v.firstSeen)}</dd>
        <dt>PEM</dt>
        <dd><a href="/api/v1/certificates/${v.tbsSha256}/pem" download>Download PEM</a></dd>
      </dl>
    </section>
    <section aria-labelledby="reasons">
      <h2 id="reasons">Reasons</h2>
      ${
        v.reasons.length === 0
          ? html`<p>${v.known ? 'Known: nothing to report.' : 'No reason recorded.'}</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  Why this issuance looks wrong
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Code</th>
                    <th scope="col">Severity</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  ${v.reasons.map(
                    (r) =>
                      html`<tr>
                        <td><code>${text(r.code, 60)}</code></td>
                        <td>${badge(r.severity, r.severity)}</td>
                        <td>${text(r.message, 1000)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
    <section aria-labelledby="entries">
      <h2 id="entries">Log entries</h2>
      <div class="table-wrap">
        <table>
          <caption>
            Every CT log entry of this issuance
          </caption>
          <thead>
            <tr>
              <th scope="col">Log</th>
              <th scope="col" class="num">Index</th>
              <th scope="col">Type</th>
              <th scope="col">Logged</th>
            </tr>
          </thead>
          <tbody>
            ${v.entries.map(
              (e) =>
                html`<tr>
                  <td class="url">${text(e.log, 300)}</td>
                  <td class="num">${e.index}</td>
                  <td>${text(e.type, 20)}</td>
                  <td>${time(new Date(e.timestamp).toISOString())}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${
        v.sources.length > 0
          ? html`<p>Imported by <code>certvigil backfill</code> from ${text(v.sources.join(', '), 200)}.</p>`
          : ''
      }
    </section>
    <section aria-labelledby="auths">
      <h2 id="auths">Authorisations</h2>
      ${
        v.authorizations.length === 0
          ? html`<p>None.</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  Authorisations that cover this issuance
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Hash</th>
                    <th scope="col">Of the</th>
                    <th scope="col">Note</th>
                    <th scope="col">Since</th>
                  </tr>
                </thead>
                <tbody>
                  ${v.authorizations.map(
                    (a) =>
                      html`<tr>
                        <td><code class="hash">${text(a.hash, 64)}</code></td>
                        <td>${a.matches}</td>
                        <td>${text(a.note, 500)}</td>
                        <td>${time(a.createdAt)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${
        admin
          ? html`<form method="post" action="/certificates/${v.tbsSha256}/authorize" class="stacked">
              <h3>Authorise this issuance</h3>
              <p>
                Records its TBS hash as ours (as <code>certvigil certs authorize</code>): it then counts as
                known.
              </p>
              ${csrfField(c)}
              <label for="note">Note (who requested it, ticket)</label>
              <input id="note" name="note" type="text" maxlength="200" />
              <button type="submit">Authorise</button>
            </form>`
          : ''
      }
    </section>`;
}

const HASH = /^[0-9a-fA-F]{8,64}$/;

export function registerCertificates(app: Hono<AppEnv>, deps: ServerDeps, contexts: ViewContextCache): void {
  app.get('/certificates', (c) => listPage(c, deps, contexts));

  app.get('/certificates/:hash', async (c) => {
    const hash = c.req.param('hash');
    if (!HASH.test(hash)) return errorPage(c, 404, 'Not found', 'No issuance has this hash.');
    const found = await deps.store.findIssuances(hash.toLowerCase());
    if (found.length === 0) return errorPage(c, 404, 'Not found', 'No issuance has this hash.');
    const views = await issuanceViews(deps.store, found.slice(0, 50), await contexts.get());
    const first = views[0] as IssuanceView;
    if (views.length > 1)
      return c.html(
        page(c, {
          title: 'Several issuances match',
          body: issuanceTable(views, `Issuances whose hash starts with ${hash.toLowerCase()}`),
        }),
      );
    return c.html(
      page(c, { title: text(first.dnsNames[0] ?? first.tbsSha256, 120), body: detailBody(c, first) }),
    );
  });

  app.post('/certificates/:hash/authorize', requireRole('admin'), async (c) => {
    const hash = c.req.param('hash').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash)) return errorPage(c, 404, 'Not found', 'No issuance has this hash.');
    const found = await deps.store.findIssuances(hash);
    if (!found.some((i) => i.tbsSha256 === hash))
      return errorPage(c, 404, 'Not found', 'No issuance has this hash.');
    const body = await c.req.parseBody();
    const rawNote = typeof body['note'] === 'string' ? body['note'].trim() : '';
    const note = rawNote === '' ? null : text(rawNote, 200);
    await deps.store.authorize(hash, note);
    contexts.invalidate();
    const who = c.get('principal');
    deps.logger.info({ hash, by: who?.id ?? null }, 'issuance authorised through the web pages');
    return c.redirect(`/certificates/${hash}`, 303);
  });
}
