import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildHealthReport } from '../../health/index.js';
import type { LogCursor, LogHealthRecord, MonitorStatusRecord } from '../../store/index.js';
import { buildRegistry } from './registry.js';
import type { ScrapeState } from './registry.js';
import { tallyAlerts, tallyIodef, tallyIssuances } from './tally.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const HOSTILE_URL = 'https://ct.example/"} evil_metric 1\n# TYPE x counter\u202e\u0000/' + 'a'.repeat(400);

function state(overrides: { url?: string; lastCycleAt?: string | null } = {}): ScrapeState {
  const cursor: LogCursor = {
    logId: 'AAAA/+==',
    url: overrides.url ?? 'https://ct.example/log/',
    kind: 'rfc6962',
    description: 'Log',
    position: 90,
    tree: null,
    verified: { treeSize: 90, timestamp: NOW.getTime() - 120_000, rootHash: '', treeHeadSignature: '' },
    updatedAt: NOW.toISOString(),
  };
  const health: LogHealthRecord = {
    logId: cursor.logId,
    url: cursor.url,
    status: 'unreachable',
    lastAttemptAt: NOW.toISOString(),
    lastContactAt: null,
    lastError: 'connect ECONNREFUSED',
    newestTreeSize: 100,
    newestTreeTimestamp: null,
    updatedAt: NOW.toISOString(),
  };
  const status: MonitorStatusRecord = {
    logListSource: null,
    logListFetchedAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
    logListError: null,
    lastCycleAt: overrides.lastCycleAt === undefined ? NOW.toISOString() : overrides.lastCycleAt,
    inventoryErrors: 0,
    monitoredLogIds: null,
    lastHeartbeatAt: null,
  };
  return {
    fast: {
      report: buildHealthReport({
        now: NOW,
        cursors: [cursor],
        health: [health],
        pendingAlerts: [],
        pendingAlertsCap: 10,
        status,
      }),
      issuancesStored: 3,
      pendingByKind: tallyAlerts([]).pending,
    },
    slow: {
      alerts: tallyAlerts([]),
      iodefReceived: tallyIodef([]),
      malformedByLog: new Map(),
      issuances: tallyIssuances([{ known: false, severity: 'critical' }]),
      classified: 1,
      at: NOW,
    },
    now: NOW,
  };
}

function promtool(body: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, output }));
    p.stdin.end(body);
  });
}

describe('buildRegistry', () => {
  it('renders the snapshot: backlog, age, status, unclassified', async () => {
    const s = state();
    const body = await buildRegistry({ current: () => s }, { processMetrics: false }).metrics();
    const labels = 'log_id="AAAA/+==",url="https://ct.example/log/"';
    expect(body).toContain(`certvigil_log_backlog{${labels}} 10\n`);
    expect(body).toContain(`certvigil_log_last_verified_age_seconds{${labels}} 120\n`);
    expect(body).toContain(`certvigil_log_status{${labels},status="unreachable"} 1\n`);
    expect(body).toContain(`certvigil_log_status{${labels},status="ok"} 0\n`);
    expect(body).toContain('certvigil_issuances_unclassified 2\n');
    expect(body).toContain('certvigil_log_list_age_seconds 3600\n');
    expect(body).toContain('certvigil_monitor_last_cycle_age_seconds 0\n');
  });

  it('a hostile log URL stays inside its label: escaped, sanitised, cut; promtool accepts the body', async () => {
    const s = state({ url: HOSTILE_URL });
    const body = await buildRegistry({ current: () => s }, { processMetrics: false }).metrics();
    expect(body).not.toMatch(/^evil_metric/m);
    expect(body).not.toMatch(/^# TYPE x /m);
    expect(body).not.toContain('\u202e');
    expect(body).toContain('\\\\u202E');
    const line = body.split('\n').find((l) => l.startsWith('certvigil_log_backlog{')) ?? '';
    expect(line.length).toBeLessThan(400);
    const check = await promtool(body);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it.each([
    ['never', null],
    ['unreadable', 'not a time'],
  ])('no heartbeat sample (not NaN) when the last cycle time is %s', async (_n, lastCycleAt) => {
    const s = state({ lastCycleAt });
    const body = await buildRegistry({ current: () => s }, { processMetrics: false }).metrics();
    expect(body).not.toMatch(/^certvigil_monitor_last_cycle_age_seconds /m);
    expect(body).not.toContain('NaN');
  });

  it('while the expensive part is not computed: its families are empty, the cheap ones are there', async () => {
    const s = { ...state(), slow: null };
    const body = await buildRegistry({ current: () => s }, { processMetrics: false }).metrics();
    for (const name of [
      'certvigil_issuances',
      'certvigil_issuances_unclassified',
      'certvigil_alerts_failed',
      'certvigil_iodef_reports_received',
    ])
      expect(body, name).not.toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    expect(body).toContain('certvigil_issuances_stored 3\n');
    expect(await promtool(body)).toEqual({ code: 0, output: '' });
  });

  it('before any snapshot: families with HELP and TYPE, no samples', async () => {
    const body = await buildRegistry({ current: () => null }, { processMetrics: false }).metrics();
    expect(body).toContain('# TYPE certvigil_log_backlog gauge');
    expect(body.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
    expect(await promtool(body)).toEqual({ code: 0, output: '' });
  });
});
