/**
 * @module server/pages/overview
 * `/`: what an operator woken at 3 a.m. needs first: the unknown certificates, every log's health
 * (backlog, last verified, status), the alerts waiting, the log list's age. The same health report
 * as `certvigil status` (health.buildHealthReport over the same store reads).
 */
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { buildHealthReport, roughAge } from '../../health/index.js';
import type { LogView } from '../../health/index.js';
import type { AppEnv, ServerDeps } from '../types.js';
import { scanPage } from './cert-query.js';
import { issuanceTable } from './certificates.js';
import type { ViewContextCache } from './context.js';
import { badge, count, page, text, time } from './layout.js';

/** Pending alerts counted at most (as `status` does: a number, not a full read of a huge outbox). */
const PENDING_CAP = 1000;
/** Unknown issuances shown first, and how far back the overview looks for them. */
const UNKNOWN_SHOWN = 10;
const UNKNOWN_SCAN = 1000;

function statusKind(s: LogView['status']): string {
  return s === 'ok' ? 'ok' : s === 'unknown' || s === 'unreachable' ? 'warning' : 'critical';
}

function logRow(l: LogView) {
  return html`<tr>
    <td class="url">
      ${
        l.description !== null && l.description !== ''
          ? html`${text(l.description, 200)}<br /><span class="muted small">${text(l.url, 200)}</span>`
          : text(l.url, 200)
      }
    </td>
    <td>
      ${badge(l.status, statusKind(l.status))}${l.lastError !== null && l.status !== 'ok' ? html`<br /><span class="small">${text(l.lastError, 300)}</span>` : ''}
    </td>
    <td class="num">${l.treeSize === null ? '—' : count(l.treeSize)}</td>
    <td class="num">${count(l.position)}</td>
    <td class="num">${l.backlog === null ? '—' : count(l.backlog)}</td>
    <td>
      ${time(l.verifiedAt)}${l.behindSeconds !== null ? html`<br /><span class="muted small">${roughAge(l.behindSeconds)} behind</span>` : ''}
    </td>
    <td>${time(l.lastContact)}</td>
  </tr>`;
}

export function registerOverview(app: Hono<AppEnv>, deps: ServerDeps, contexts: ViewContextCache): void {
  app.get('/', async (c) => {
    const now = (deps.now ?? (() => new Date()))();
    const [cursors, health, pending, status] = await Promise.all([
      deps.store.listCursors(),
      deps.store.listLogHealth(),
      deps.store.pendingAlerts(PENDING_CAP),
      deps.store.getMonitorStatus(),
    ]);
    const report = buildHealthReport({
      now,
      cursors,
      health,
      pendingAlerts: pending,
      pendingAlertsCap: PENDING_CAP,
      status,
    });
    const unknown = await scanPage(
      deps.store,
      await contexts.get(),
      {
        name: null,
        known: 'unknown',
        severity: 'any',
        issuer: '',
        from: null,
        to: null,
        limit: UNKNOWN_SHOWN,
      },
      'older',
      null,
      UNKNOWN_SCAN,
    );
    const ll = report.logList;
    const body = html`<section aria-labelledby="unknown">
        <h2 id="unknown">Unknown certificates</h2>
        ${
          unknown.views.length === 0
            ? html`<p>
                ${badge('none', 'ok')} No unknown certificate among the newest ${count(unknown.scanned)}
                issuances.
              </p>`
            : html`${issuanceTable(unknown.views, 'Newest unknown issuances')}
                <p><a href="/certificates?known=unknown">All unknown certificates →</a></p>`
        }
      </section>
      <section aria-labelledby="alerts">
        <h2 id="alerts">Alerts</h2>
        <p>
          ${
            report.pendingAlerts === 0
              ? html`${badge('0 waiting', 'ok')} Every alert was delivered.`
              : html`${badge(`${report.pendingAlertsTruncated ? 'over ' : ''}${count(report.pendingAlerts)} waiting`, 'warning')}
                oldest since
                ${time(report.oldestPendingAlertAt)}${report.failingAlerts > 0 ? html`; ${count(report.failingAlerts)} failing delivery` : ''}.`
          } <a href="/alerts">Alert history →</a>
        </p>
      </section>
      <section aria-labelledby="logs">
        <h2 id="logs">CT logs</h2>
        ${
          report.logs.length === 0
            ? html`<p>The monitor has not read any log yet.</p>`
            : html`<div class="table-wrap">
                <table>
                  <caption>
                    Health of every log the monitor reads
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Log</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="num">Tree size</th>
                      <th scope="col" class="num">Position</th>
                      <th scope="col" class="num">Backlog</th>
                      <th scope="col">Verified up to</th>
                      <th scope="col">Last contact</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${report.logs.map(logRow)}
                  </tbody>
                </table>
              </div>`
        }
        <dl class="facts">
          <dt>Log list</dt>
          <dd>
            ${ll.source === null ? html`<span class="muted">not recorded</span>` : text(ll.source, 300)}
          </dd>
          <dt>Log list fetched</dt>
          <dd>
            ${time(ll.fetchedAt)}${ll.ageSeconds !== null ? html` <span class="muted">(${roughAge(ll.ageSeconds)} old)</span>` : ''}
          </dd>
          ${
            ll.error !== null
              ? html`<dt>Log list error</dt>
                  <dd>${text(ll.error, 300)}</dd>`
              : ''
          }
          <dt>Monitor last cycle</dt>
          <dd>${time(report.lastCycleAt)}</dd>
          ${
            report.inventoryErrors > 0
              ? html`<dt>Inventory errors</dt>
                  <dd>${count(report.inventoryErrors)} path(s) could not be scanned</dd>`
              : ''
          }
        </dl>
      </section>`;
    return c.html(page(c, { title: 'Overview', body }));
  });
}
