/**
 * @module server/pages/domains
 * `/domains` and `/domains/:domain`: per watched domain its last CAA audit (`caa audit`'s grade and
 * findings, as stored by the scheduled audit), the issuers seen in its issuances, issuances per
 * month (SVG), and for admins a "re-run audit" form (`POST /domains/:domain/audit`).
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { Issuance } from '../../store/index.js';
import { requireRole } from '../auth/middleware.js';
import type { AppEnv, ServerDeps } from '../types.js';
import { normaliseSearchName } from './cert-query.js';
import { monthChart, perMonth } from './chart.js';
import { badge, count, csrfField, errorPage, hrefWith, isAdmin, page, text, time } from './layout.js';
import type { Html } from './layout.js';

/** Issuances of one domain read for its issuers and chart (newest first); more are summarised as "newest N". */
export const DOMAIN_SAMPLE = 1000;
const CHART_MONTHS = 12;

/**
 * The stored audit JSON, read leniently: it is `caa audit --json`'s report (caa/audit AuditReport),
 * but a record written by another version must not break the page, so unknown shapes show as
 * "unreadable" rather than throwing.
 */
const AuditJson = z.object({
  grade: z.string().max(20).optional(),
  findings: z
    .array(
      z.object({
        id: z.string().max(100).optional(),
        severity: z.string().max(20).optional(),
        name: z.string().optional(),
        message: z.string().optional(),
        fix: z.string().optional(),
      }),
    )
    .optional(),
});
type AuditSummary = z.infer<typeof AuditJson>;

export function readAudit(json: string): AuditSummary | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  // `caa audit --json` for one domain may print the report itself or a list of reports.
  if (Array.isArray(value)) value = value[0];
  const r = AuditJson.safeParse(value);
  return r.success ? r.data : null;
}

function gradeKind(grade: string | undefined): string {
  return grade === 'A'
    ? 'ok'
    : grade === 'B' || grade === 'C'
      ? 'warning'
      : grade === undefined
        ? 'info'
        : 'critical';
}

function severityKind(s: string | undefined): string {
  return s === 'critical' || s === 'error' ? 'critical' : s === 'warning' ? 'warning' : 'info';
}

async function watched(deps: ServerDeps): Promise<string[] | null> {
  if (deps.watchedDomains === undefined) return null;
  const list = await deps.watchedDomains();
  return [...new Set(list.map((d) => normaliseSearchName(d)).filter((d): d is string => d !== null))].sort();
}

const NO_CONFIG = html`<p class="notice">
  The watched domains are not known to this server: start <code>certvigil serve</code> with
  <code>--config</code> to list them. Domains with a stored CAA audit are listed below.
</p>`;

export function registerDomains(app: Hono<AppEnv>, deps: ServerDeps): void {
  app.get('/domains', async (c) => {
    const [list, audits] = await Promise.all([watched(deps), deps.store.listDomainAudits()]);
    const byDomain = new Map(audits.map((a) => [a.domain, a]));
    const domains = list ?? [...byDomain.keys()];
    const counts = await Promise.all(domains.map((d) => deps.store.countIssuances(d)));
    const body = html`${list === null ? NO_CONFIG : ''}
    ${
      domains.length === 0
        ? html`<p>No domain to show.</p>`
        : html`<div class="table-wrap">
            <table>
              <caption>
                Watched domains
              </caption>
              <thead>
                <tr>
                  <th scope="col">Domain</th>
                  <th scope="col">CAA grade</th>
                  <th scope="col" class="num">Findings</th>
                  <th scope="col">Audited</th>
                  <th scope="col" class="num">Issuances</th>
                </tr>
              </thead>
              <tbody>
                ${domains.map((d, i) => {
                  const a = byDomain.get(d);
                  const r = a !== undefined ? readAudit(a.resultJson) : null;
                  return html`<tr>
                    <td><a href="/domains/${d}">${text(d)}</a></td>
                    <td>
                      ${a === undefined ? html`<span class="muted">not audited</span>` : r === null ? badge('unreadable', 'warning') : badge(r.grade ?? '?', gradeKind(r.grade))}
                    </td>
                    <td class="num">${r?.findings !== undefined ? r.findings.length : '—'}</td>
                    <td>${time(a?.checkedAt ?? null)}</td>
                    <td class="num">
                      <a href="${hrefWith('/certificates', { q: d })}">${count(counts[i] ?? 0)}</a>
                    </td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>`
    }`;
    return c.html(page(c, { title: 'Domains', body }));
  });

  app.get('/domains/:domain', (c) => domainPage(c, deps));

  app.post('/domains/:domain/audit', requireRole('admin'), async (c) => {
    const domain = normaliseSearchName(c.req.param('domain'));
    if (domain === null) return errorPage(c, 404, 'Not found', 'Not a domain name.');
    if (deps.auditDomain === undefined)
      return errorPage(
        c,
        400,
        'Audit unavailable',
        'This server cannot run CAA audits (start serve with --config).',
      );
    // Only domains we watch (or already audited): an admin form must not become a DNS query cannon.
    const list = await watched(deps);
    const known =
      list !== null
        ? list.includes(domain)
        : (await deps.store.listDomainAudits()).some((a) => a.domain === domain);
    if (!known) return errorPage(c, 404, 'Not found', 'Not a watched domain.');
    let result: unknown;
    try {
      result = await deps.auditDomain(domain);
    } catch (err) {
      // The audit reports DNS trouble in its result (grade `error`); a throw is something else
      // (resolver setup, a bug): say so on the page, keep the previous audit, log the details.
      deps.logger.warn({ err, domain }, 'CAA audit from the web pages failed');
      const message = err instanceof Error ? err.message : String(err);
      return errorPage(c, 502, 'Audit failed', `The CAA audit of ${domain} failed: ${message}`);
    }
    const now = (deps.now ?? (() => new Date()))();
    await deps.store.putDomainAudit({
      domain,
      resultJson: JSON.stringify(result),
      checkedAt: now.toISOString(),
    });
    deps.logger.info(
      { domain, by: c.get('principal')?.id ?? null },
      'CAA audit re-run through the web pages',
    );
    return c.redirect(`/domains/${domain}`, 303);
  });
}

function issuersOf(issuances: readonly Issuance[]): { issuer: string; count: number; last: string }[] {
  const m = new Map<string, { issuer: string; count: number; last: string }>();
  for (const i of issuances) {
    const e = m.get(i.issuer) ?? { issuer: i.issuer, count: 0, last: i.notBefore };
    e.count++;
    if (i.notBefore > e.last) e.last = i.notBefore;
    m.set(i.issuer, e);
  }
  return [...m.values()].sort((a, b) => b.count - a.count || (a.issuer < b.issuer ? -1 : 1));
}

function auditSection(
  c: Context<AppEnv>,
  deps: ServerDeps,
  domain: string,
  json: string | null,
  at: string | null,
): Html {
  const r = json === null ? null : readAudit(json);
  const form =
    isAdmin(c) && deps.auditDomain !== undefined
      ? html`<form method="post" action="/domains/${domain}/audit" class="inline">
          ${csrfField(c)}<button type="submit">Re-run audit now</button>
        </form>`
      : '';
  if (json === null)
    return html`<p>No CAA audit stored yet.</p>
      ${form}`;
  if (r === null)
    return html`<p>${badge('unreadable', 'warning')} The stored audit could not be read.</p>
      ${form}`;
  const findings = r.findings ?? [];
  return html`<p>Grade ${badge(r.grade ?? '?', gradeKind(r.grade))}, audited ${time(at)}. ${form}</p>
    ${
      findings.length === 0
        ? html`<p>No findings.</p>`
        : html`<div class="table-wrap">
            <table>
              <caption>
                Findings of the last audit
              </caption>
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Finding</th>
                  <th scope="col">Name</th>
                  <th scope="col">Why</th>
                  <th scope="col">Fix</th>
                </tr>
              </thead>
              <tbody>
                ${findings.slice(0, 200).map(
                  (f) =>
                    html`<tr>
                      <td>${badge(f.severity ?? '?', severityKind(f.severity))}</td>
                      <td><code>${text(f.id, 60)}</code></td>
                      <td>${text(f.name, 260)}</td>
                      <td>${text(f.message, 1000)}</td>
                      <td><pre class="fix">${text(f.fix ?? '', 1000)}</pre></td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }`;
}

async function domainPage(c: Context<AppEnv>, deps: ServerDeps): Promise<Response> {
  const domain = normaliseSearchName(c.req.param('domain') ?? '');
  if (domain === null) return errorPage(c, 404, 'Not found', 'Not a domain name.');
  const [list, audits] = await Promise.all([watched(deps), deps.store.listDomainAudits()]);
  const audit = audits.find((a) => a.domain === domain) ?? null;
  if (list !== null && !list.includes(domain) && audit === null)
    return errorPage(c, 404, 'Not found', 'Not a watched domain.');
  const [sample, total] = await Promise.all([
    deps.store.pageIssuances({ name: domain, order: 'desc', limit: DOMAIN_SAMPLE }),
    deps.store.countIssuances(domain),
  ]);
  const now = (deps.now ?? (() => new Date()))();
  const months = perMonth(
    sample.map((i) => i.notBefore),
    now,
    CHART_MONTHS,
  );
  const issuers = issuersOf(sample);
  const partial = total > sample.length;
  const body = html`${list === null ? NO_CONFIG : ''}
    <section aria-labelledby="caa">
      <h2 id="caa">CAA policy</h2>
      ${auditSection(c, deps, domain, audit?.resultJson ?? null, audit?.checkedAt ?? null)}
    </section>
    <section aria-labelledby="issuers">
      <h2 id="issuers">Issuers seen</h2>
      <p>
        ${count(total)} issuance${total === 1 ? '' : 's'} for ${text(domain)} and
        below${partial ? html` (issuers and chart from the newest ${count(sample.length)})` : ''}.
        <a href="${hrefWith('/certificates', { q: domain })}">List them →</a>
      </p>
      ${
        issuers.length === 0
          ? html`<p>None.</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  Issuers of this domain's certificates
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Issuer</th>
                    <th scope="col" class="num">Issuances</th>
                    <th scope="col">Latest</th>
                  </tr>
                </thead>
                <tbody>
                  ${issuers.slice(0, 100).map(
                    (i) =>
                      html`<tr>
                        <td>
                          <a
                            href="${hrefWith('/certificates', { q: domain, issuer: i.issuer.slice(0, 200) })}"
                            >${text(i.issuer, 200)}</a
                          >
                        </td>
                        <td class="num">${count(i.count)}</td>
                        <td>${time(i.last)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
    <section aria-labelledby="chart">
      <h2 id="chart">Issuances per month</h2>
      ${monthChart(months, `Issuances per month for ${text(domain)}`)}
      <details>
        <summary>As a table</summary>
        <div class="table-wrap">
          <table>
            <caption>
              Issuances per month (by start of validity)
            </caption>
            <thead>
              <tr>
                <th scope="col">Month</th>
                <th scope="col" class="num">Issuances</th>
              </tr>
            </thead>
            <tbody>
              ${months.map(
                (m) =>
                  html`<tr>
                    <td>${m.month}</td>
                    <td class="num">${m.count}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </details>
    </section>`;
  return c.html(page(c, { title: text(domain), body }));
}
