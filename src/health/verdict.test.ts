import { describe, expect, it } from 'vitest';
import type { LogCursor, LogHealthRecord, MonitorStatusRecord } from '../store/types.js';
import { buildHealthReport, verifiedThrough } from './report.js';
import { monitorVerdict } from './verdict.js';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();

function cursor(
  id: string,
  o: { position?: number; verifiedSize?: number | null; sthAgo?: number } = {},
): LogCursor {
  const verifiedSize = o.verifiedSize === undefined ? 100 : o.verifiedSize;
  return {
    logId: id,
    url: `https://${id}.example/`,
    kind: 'rfc6962',
    description: id,
    position: o.position ?? 100,
    tree: null,
    verified:
      verifiedSize === null
        ? null
        : {
            treeSize: verifiedSize,
            timestamp: NOW.getTime() - (o.sthAgo ?? 7200) * 1000,
            rootHash: '',
            treeHeadSignature: '',
          },
    updatedAt: ago(10),
  };
}

function health(id: string, o: Partial<LogHealthRecord> = {}): LogHealthRecord {
  return {
    logId: id,
    url: `https://${id}.example/`,
    status: 'ok',
    lastAttemptAt: ago(60),
    lastContactAt: ago(60),
    lastError: null,
    newestTreeSize: 100,
    newestTreeTimestamp: ago(7200),
    updatedAt: ago(60),
    ...o,
  };
}

const STATUS: MonitorStatusRecord = {
  logListSource: 'data/loglist.json',
  logListFetchedAt: ago(1800),
  logListError: null,
  lastCycleAt: ago(30),
  inventoryErrors: 0,
  lastHeartbeatAt: null,
  monitoredLogIds: null,
};

interface Row {
  cursors: LogCursor[];
  health: LogHealthRecord[];
  alerts?: { createdAt: string; attempts: number; lastError: string | null }[];
  status?: Partial<MonitorStatusRecord>;
}

const judge = (r: Row) =>
  monitorVerdict(
    buildHealthReport({
      now: NOW,
      cursors: r.cursors,
      health: r.health,
      pendingAlerts: r.alerts ?? [],
      pendingAlertsCap: 1000,
      status: { ...STATUS, ...r.status },
    }),
    { maxAgeSeconds: 3600, logListMaxAgeSeconds: 86_400 },
  );

describe('monitorVerdict', () => {
  it.each<[string, Row, string, RegExp]>([
    [
      'caught up at a recent contact (idle log, old STH)',
      { cursors: [cursor('a')], health: [health('a')] },
      'OK',
      /1 logs verified within 1h/,
    ],
    [
      'behind, but the verified STH is recent',
      { cursors: [cursor('a', { position: 50, verifiedSize: 50, sthAgo: 600 })], health: [health('a')] },
      'OK',
      /verified/,
    ],
    [
      'behind and the verified STH is older than max-age',
      { cursors: [cursor('a', { position: 50, verifiedSize: 50, sthAgo: 4000 })], health: [health('a')] },
      'CRITICAL',
      /1 of 1 logs not verified within 1h/,
    ],
    [
      'last contact older than max-age',
      { cursors: [cursor('a')], health: [health('a', { lastContactAt: ago(4000) })] },
      'CRITICAL',
      /not verified within/,
    ],
    [
      'never verified',
      { cursors: [cursor('a', { verifiedSize: null })], health: [health('a', { lastContactAt: null })] },
      'CRITICAL',
      /not verified/,
    ],
    [
      'misbehaving though fresh',
      {
        cursors: [cursor('a')],
        health: [health('a', { status: 'misbehaving', lastError: 'root mismatch' })],
      },
      'CRITICAL',
      /1 misbehaving/,
    ],
    [
      'internal error',
      { cursors: [cursor('a')], health: [health('a', { status: 'internal' })] },
      'CRITICAL',
      /internal/,
    ],
    [
      'unreachable but verified within max-age',
      {
        cursors: [cursor('a'), cursor('b')],
        health: [
          health('a', { status: 'unreachable', lastError: 'HTTP 503', lastContactAt: ago(1200) }),
          health('b'),
        ],
      },
      'WARNING',
      /1 unreachable \(https:\/\/a\.example\/\)/,
    ],
    [
      'unreachable beyond max-age',
      { cursors: [cursor('a')], health: [health('a', { status: 'unreachable', lastContactAt: ago(7200) })] },
      'CRITICAL',
      /not verified/,
    ],
    [
      'an alert undelivered longer than max-age',
      {
        cursors: [cursor('a')],
        health: [health('a')],
        alerts: [{ createdAt: ago(3601), attempts: 0, lastError: null }],
      },
      'CRITICAL',
      /1 alerts undelivered, oldest 1h/,
    ],
    [
      'a young alert that fails delivery',
      {
        cursors: [cursor('a')],
        health: [health('a')],
        alerts: [{ createdAt: ago(60), attempts: 2, lastError: 'exit 1' }],
      },
      'WARNING',
      /1 alert deliveries failing/,
    ],
    [
      'a young pending alert is fine',
      {
        cursors: [cursor('a')],
        health: [health('a')],
        alerts: [{ createdAt: ago(60), attempts: 0, lastError: null }],
      },
      'OK',
      /1 alerts pending/,
    ],
    [
      'log list refresh error',
      { cursors: [cursor('a')], health: [health('a')], status: { logListError: 'HTTP 500' } },
      'WARNING',
      /log list not refreshed/,
    ],
    [
      'log list older than a day',
      { cursors: [cursor('a')], health: [health('a')], status: { logListFetchedAt: ago(90_000) } },
      'WARNING',
      /log list 25h old/,
    ],
    [
      'inventory errors',
      { cursors: [cursor('a')], health: [health('a')], status: { inventoryErrors: 2 } },
      'WARNING',
      /2 inventory errors/,
    ],
    [
      'critical wins over warning',
      {
        cursors: [cursor('a')],
        health: [health('a', { status: 'misbehaving' })],
        status: { inventoryErrors: 1 },
      },
      'CRITICAL',
      /misbehaving.*inventory/,
    ],
    ['no log at all', { cursors: [], health: [] }, 'UNKNOWN', /no log monitored/],
    [
      'a state from before health records: judged by the verified STH alone',
      { cursors: [cursor('a', { sthAgo: 60 })], health: [] },
      'OK',
      /verified/,
    ],
  ])('%s → %s', (_name, row, status, summary) => {
    const v = judge(row);
    expect(v.status).toBe(status);
    expect(v.summary).toMatch(summary);
  });

  it('perfdata carries the limits', () => {
    const v = judge({
      cursors: [cursor('a', { position: 40, verifiedSize: 40, sthAgo: 100 })],
      health: [health('a')],
    });
    expect(v.perfdata).toContainEqual({ label: 'max_behind', value: 100, uom: 's', crit: 3600, min: 0 });
    expect(v.perfdata).toContainEqual({ label: 'backlog', value: 60, uom: '', min: 0 });
  });
});

describe('verifiedThrough', () => {
  it('is the later of the verified STH time and a caught-up contact', () => {
    const c = cursor('a', { sthAgo: 5000 });
    expect(verifiedThrough(c, health('a', { lastContactAt: ago(10) }))).toBe(NOW.getTime() - 10_000);
    // Behind at that contact: the contact proves nothing about the entries not yet verified.
    expect(verifiedThrough(c, health('a', { lastContactAt: ago(10), newestTreeSize: 200 }))).toBe(
      NOW.getTime() - 5_000_000,
    );
    expect(verifiedThrough(cursor('a', { verifiedSize: null }), health('a'))).toBeNull();
  });
});

describe('a log that left the list', () => {
  it('is not judged: its old cursor and health stay, but only the monitored logs count', () => {
    const row: Row = {
      cursors: [cursor('a'), cursor('gone', { position: 50, verifiedSize: 50, sthAgo: 999_999 })],
      health: [health('a'), health('gone', { lastContactAt: ago(999_999) })],
    };
    expect(judge(row).status).toBe('CRITICAL');
    expect(judge({ ...row, status: { monitoredLogIds: ['a'] } }).status).toBe('OK');
  });
});
