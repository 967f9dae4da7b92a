import { describe, expect, it } from 'vitest';
import { sinksOfError, tallyAlerts, tallyIodef, tallyIssuances, tallyMalformed } from './tally.js';

describe('sinksOfError', () => {
  it.each([
    // The format of monitor/alerts.ts deliverPendingAlerts: `NAME: message` joined by '; '.
    ['exec: hook exited with status 3', ['exec']],
    ['email: 550 mailbox unavailable; webhook: HTTP 502', ['email', 'webhook']],
    ['webhook: connect ECONNREFUSED; stdout: EPIPE', ['stdout', 'webhook']],
    // Not a sink failure (an outbox row that holds no event): bounded to `other`.
    ['alert payload is not a monitor event', ['other']],
    // A name that only appears inside a message is not a sink.
    ['webhook: body said "email: x"', ['webhook']],
    // Attacker-influenced text never becomes a label value.
    ['www.evil.example: <script>', ['other']],
  ])('%j → %j', (error, sinks) => {
    expect(sinksOfError(error)).toEqual(sinks);
  });
});

describe('tallyAlerts', () => {
  const a = (kind: string, deliveredAt: string | null, lastError: string | null) =>
    ({ kind, deliveredAt, lastError }) as Parameters<typeof tallyAlerts>[0][number];

  it('counts pending and delivered by kind, failures by sink and state, with zeros for every label', () => {
    const t = tallyAlerts([
      a('issuance', null, null),
      a('issuance', null, 'exec: status 3'),
      a('health', '2026-01-01T00:00:00Z', null),
      a('issuance', '2026-01-01T00:00:00Z', 'email: timeout; exec: status 1'),
      a('bogus', null, 'garbage'),
    ]);
    expect(t.pending).toEqual({ issuance: 2, misbehaviour: 0, health: 0, malformed: 0 });
    expect(t.delivered).toEqual({ issuance: 1, misbehaviour: 0, health: 1, malformed: 0 });
    expect(t.failed).toEqual({
      email: { pending: 0, delivered: 1 },
      exec: { pending: 1, delivered: 1 },
      stdout: { pending: 0, delivered: 0 },
      webhook: { pending: 0, delivered: 0 },
      other: { pending: 1, delivered: 0 },
    });
  });
});

describe('tallyIssuances / tallyIodef / tallyMalformed', () => {
  it('counts issuances by known and severity; an unexpected severity counts as info', () => {
    expect(
      tallyIssuances([
        { known: true, severity: 'info' },
        { known: false, severity: 'critical' },
        { known: false, severity: 'critical' },
        { known: false, severity: 'warning' },
        { known: false, severity: 'weird' },
      ]),
    ).toEqual({
      true: { info: 1, warning: 0, critical: 0 },
      false: { info: 1, warning: 1, critical: 2 },
    });
  });

  it('counts received iodef reports by channel', () => {
    expect(tallyIodef([{ channel: 'smtp' }, { channel: 'smtp' }, { channel: 'file' }])).toEqual({
      https: 0,
      smtp: 2,
      file: 1,
    });
  });

  it('counts malformed entries by log', () => {
    expect([...tallyMalformed([{ logId: 'A' }, { logId: 'B' }, { logId: 'A' }])]).toEqual([
      ['A', 2],
      ['B', 1],
    ]);
  });
});
