/**
 * @module server/pages/reports
 * `/iodef` (CAA iodef reports received, RFC 8659 §4.4 / RFC 7970), `/mitm` (the learned MITM-probe
 * baselines and the last recorded `check mitm` result per target) and `/alerts` (the alert outbox,
 * newest first). The store returns these lists whole; the pages show them newest first, a bounded
 * page at a time (`?page=N`).
 *
 * Every iodef field is attacker-controlled (anyone may send a report): it is shown through
 * `text()` and never as markup; the raw document is not rendered at all.
 */
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import { eventOfAlert } from '../../monitor/index.js';
import { summaryLine } from '../../notify/index.js';
import type { AlertRecord, MitmResultRecord } from '../../store/index.js';
import type { AppEnv, ServerDeps } from '../types.js';
import { badge, count, hrefWith, intParam, page, text, time } from './layout.js';
import type { Html } from './layout.js';

export const REPORTS_PER_PAGE = 50;
const MAX_PAGE = 100_000;

/** The part of the iodef summary (iodef/types.ts IodefSummary) the list shows, read leniently. */
const IodefSummaryView = z.object({
  incidentId: z.string().nullable().optional(),
  reportTime: z.string().nullable().optional(),
  reporter: z.array(z.string()).optional(),
  names: z.array(z.string()).optional(),
  descriptions: z.array(z.string()).optional(),
  reason: z.string().nullable().optional(),
  risk: z.string().optional(),
});

/**
 * The part of a recorded `check mitm --record` result (probe/mitm.ts CheckMitmResult, its --json
 * line) the page shows, read leniently: a document written by another version still shows its
 * status and time.
 */
const MitmResultView = z.object({
  summary: z.string().optional(),
  findings: z
    .array(
      z.object({
        id: z.string().optional(),
        severity: z.string().optional(),
        message: z.string().optional(),
        address: z.string().optional(),
      }),
    )
    .optional(),
});

/** The most recorded results the page lists (one per target); the API gives them all. */
export const MITM_RESULTS_SHOWN = 200;
/** Findings shown per target: the ones that are not OK first. */
const MITM_FINDINGS_SHOWN = 10;

const STATUS_KIND: Record<string, string> = {
  OK: 'ok',
  WARNING: 'warning',
  CRITICAL: 'critical',
  UNKNOWN: 'info',
};

function mitmFindings(findings: z.infer<typeof MitmResultView>['findings']): Html {
  const notOk = (findings ?? []).filter((f) => f.severity !== 'ok');
  if (notOk.length === 0) return html`<span class="muted">no change</span>`;
  const more = notOk.length - MITM_FINDINGS_SHOWN;
  return html`<ul class="names">
    ${notOk
      .slice(0, MITM_FINDINGS_SHOWN)
      .map(
        (f) =>
          html`<li>
            ${badge(f.severity ?? '?', f.severity === 'critical' ? 'critical' : f.severity === 'warning' ? 'warning' : 'info')}
            ${f.address !== undefined && f.address !== '*' ? html`<code>${text(f.address, 270)}</code> ` : ''}<code>${text(f.id ?? '', 60)}</code>:
            ${text(f.message ?? '', 500)}
          </li>`,
      )}${more > 0 ? html`<li class="muted">+${more} more</li>` : ''}
  </ul>`;
}

function mitmResults(results: readonly MitmResultRecord[]): Html {
  if (results.length === 0)
    return html`<p>
      No <code>check mitm</code> result recorded: run it with <code>--record</code> to see the last verdict
      per target here.
    </p>`;
  const more = results.length - MITM_RESULTS_SHOWN;
  return html`<div class="table-wrap">
      <table>
        <caption>
          Last check mitm result per target
        </caption>
        <thead>
          <tr>
            <th scope="col">Target</th>
            <th scope="col">Status</th>
            <th scope="col">Checked</th>
            <th scope="col">Summary</th>
            <th scope="col">Findings (per port)</th>
          </tr>
        </thead>
        <tbody>
          ${results.slice(0, MITM_RESULTS_SHOWN).map((r) => {
            let doc: unknown = null;
            try {
              doc = JSON.parse(r.resultJson);
            } catch {
              // The store only keeps JSON; a broken row still shows its status and time.
            }
            const parsed = MitmResultView.safeParse(doc);
            const v = parsed.success ? parsed.data : null;
            return html`<tr>
              <td>${text(r.target, 260)}</td>
              <td>${badge(r.status, STATUS_KIND[r.status] ?? 'info')}</td>
              <td>${time(r.checkedAt)}</td>
              <td>${v === null ? badge('unreadable', 'warning') : text(v.summary ?? '', 500)}</td>
              <td>${v === null ? '' : mitmFindings(v.findings)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${more > 0 ? html`<p class="muted">+${count(more)} more targets: see <code>/api/v1/mitm</code>.</p>` : ''}`;
}

export function slicePage<T>(items: readonly T[], pageNo: number): { items: T[]; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / REPORTS_PER_PAGE));
  const p = Math.min(pageNo, pages);
  return { items: items.slice((p - 1) * REPORTS_PER_PAGE, p * REPORTS_PER_PAGE), pages };
}

function pager(path: string, pageNo: number, pages: number): Html {
  if (pages <= 1) return html``;
  return html`<nav class="pager" aria-label="Pages">
    ${pageNo > 1 ? html`<a href="${hrefWith(path, { page: String(pageNo - 1) })}" rel="prev">← Newer</a>` : html`<span class="muted">← Newer</span>`}
    <span>Page ${pageNo} of ${pages}</span>
    ${pageNo < pages ? html`<a href="${hrefWith(path, { page: String(pageNo + 1) })}" rel="next">Older →</a>` : html`<span class="muted">Older →</span>`}
  </nav>`;
}

function list(values: readonly string[] | undefined, max = 10): Html {
  if (values === undefined || values.length === 0) return html`<span class="muted">—</span>`;
  const more = values.length - max;
  return html`<ul class="names">
    ${values.slice(0, max).map((v) => html`<li>${text(v, 260)}</li>`)}${
      more > 0 ? html`<li class="muted">+${more} more</li>` : ''
    }
  </ul>`;
}

function riskKind(risk: string | undefined): string {
  return risk === 'high' ? 'critical' : risk === 'medium' ? 'warning' : 'info';
}

function alertSummary(a: AlertRecord): string {
  try {
    return summaryLine(eventOfAlert(a));
  } catch {
    // An outbox row that holds no monitor event still has a key worth showing.
    return a.key;
  }
}

export function registerReports(app: Hono<AppEnv>, deps: ServerDeps): void {
  app.get('/iodef', async (c) => {
    const all = (await deps.store.listReceivedIodef()).slice().reverse();
    const pageNo = intParam(c.req.query('page'), 1, MAX_PAGE);
    const { items, pages } = slicePage(all, pageNo);
    const body = html`<p>
        ${count(all.length)} report${all.length === 1 ? '' : 's'} received (CAA iodef, RFC 8659 §4.4), newest
        first.
      </p>
      ${
        items.length === 0
          ? html`<p>No report received.</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  Received iodef reports
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Received</th>
                    <th scope="col">From</th>
                    <th scope="col">Risk</th>
                    <th scope="col">Names</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Incident</th>
                    <th scope="col">Checks</th>
                  </tr>
                </thead>
                <tbody>
                  ${items.map((r) => {
                    const parsed = IodefSummaryView.safeParse(r.summary);
                    const s = parsed.success ? parsed.data : null;
                    return html`<tr>
                      <td>
                        ${time(r.receivedAt)}<br /><span class="muted small">${text(r.channel, 10)}</span>
                      </td>
                      <td>
                        ${text(r.sender, 200)}${s?.reporter !== undefined && s.reporter.length > 0 ? html`<br />${list(s.reporter, 3)}` : ''}
                      </td>
                      <td>
                        ${s === null ? badge('unreadable', 'warning') : badge(s.risk ?? '?', riskKind(s.risk))}
                      </td>
                      <td>${list(s?.names)}</td>
                      <td>
                        ${text(s?.reason ?? '', 200)}${s?.descriptions !== undefined && s.descriptions.length > 0 ? html`<br /><span class="small">${text(s.descriptions[0], 500)}</span>` : ''}
                      </td>
                      <td><code>${text(s?.incidentId ?? '', 120)}</code></td>
                      <td>
                        ${r.schemaValid ? badge('valid', 'ok') : badge('schema invalid', 'warning')}${r.conflict ? html` ${badge('conflict', 'critical')}` : ''}
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`
      }
      ${pager('/iodef', Math.min(pageNo, pages), pages)}`;
    return c.html(page(c, { title: 'iodef reports', body }));
  });

  app.get('/mitm', async (c) => {
    const [all, results] = await Promise.all([deps.store.listMitmBaselines(), deps.store.listMitmResults()]);
    const pageNo = intParam(c.req.query('page'), 1, MAX_PAGE);
    const { items, pages } = slicePage(all, pageNo);
    const body = html`<p>
        What <code>certvigil mitm learn</code> recorded per target and port;
        <code>certvigil check mitm</code> compares each probe with it. The last result of each target is kept
        when the plugin runs with <code>--record</code>.
      </p>
      <h2>Last results</h2>
      ${mitmResults(results)}
      <h2>Baselines</h2>
      ${
        items.length === 0
          ? html`<p>No baseline learned.</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  MITM baselines
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Target</th>
                    <th scope="col" class="num">Port</th>
                    <th scope="col">JARM fingerprints</th>
                    <th scope="col">Last hops</th>
                    <th scope="col">Hop counts</th>
                    <th scope="col">Learned</th>
                  </tr>
                </thead>
                <tbody>
                  ${items.map(
                    (b) =>
                      html`<tr>
                        <td>${text(b.target, 260)}</td>
                        <td class="num">${b.port}</td>
                        <td>${list(b.jarms.map((j) => j))}</td>
                        <td>${list(b.lastHops.map((h) => h.join(' → ')))}</td>
                        <td>${b.hopCounts.length === 0 ? '—' : b.hopCounts.join(', ')}</td>
                        <td>${time(b.learnedAt)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${pager('/mitm', Math.min(pageNo, pages), pages)}`;
    return c.html(page(c, { title: 'MITM baselines', body }));
  });

  app.get('/alerts', async (c) => {
    const all = (await deps.store.listAlerts()).slice().reverse();
    const pageNo = intParam(c.req.query('page'), 1, MAX_PAGE);
    const { items, pages } = slicePage(all, pageNo);
    const waiting = all.filter((a) => a.deliveredAt === null).length;
    const body = html`<p>
        ${count(all.length)} alert${all.length === 1 ? '' : 's'}, ${count(waiting)} waiting for delivery;
        newest first.
      </p>
      ${
        items.length === 0
          ? html`<p>No alert yet.</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  Alert history
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Created</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Alert</th>
                    <th scope="col">Delivery</th>
                  </tr>
                </thead>
                <tbody>
                  ${items.map(
                    (a) =>
                      html`<tr>
                        <td>${time(a.createdAt)}</td>
                        <td>${text(a.kind, 20)}</td>
                        <td>${text(alertSummary(a), 300)}</td>
                        <td>
                          ${
                            a.deliveredAt !== null
                              ? html`${badge('delivered', 'ok')} ${time(a.deliveredAt)}`
                              : html`${badge('waiting', a.lastError !== null ? 'critical' : 'warning')}${a.attempts > 0 ? html` after ${a.attempts} attempt${a.attempts === 1 ? '' : 's'}` : ''}${a.lastError !== null ? html`<br /><span class="small">${text(a.lastError, 300)}</span>` : ''}`
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${pager('/alerts', Math.min(pageNo, pages), pages)}`;
    return c.html(page(c, { title: 'Alerts', body }));
  });
}
