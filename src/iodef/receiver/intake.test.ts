import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IodefReceivedInput, IodefReceivedQuota, IodefStoreResult } from '../../store/types.js';
import type { IodefSummary } from '../types.js';
import { acceptedReply, acceptReport, formatReportLine, oneLine, reportEvent } from './intake.js';
import type { ReportAlert } from './intake.js';
import { addressKey, ConnectionCounter, TokenBucketLimiter } from './rate-limit.js';

const valid = readFileSync(
  join(import.meta.dirname, '../../../test/vectors/iodef/valid-minimal-v2.xml'),
  'utf8',
);

/** An in-memory store with the one method the intake uses (same contract as the real ones); `fail` makes it throw. */
function memoryStore(fail = false) {
  const rows: (IodefReceivedInput & { id: number; conflict: boolean })[] = [];
  return {
    rows,
    async storeReceivedIodef(r: IodefReceivedInput, quota?: IodefReceivedQuota): Promise<IodefStoreResult> {
      if (fail) throw new Error('database is down');
      const dup = rows.find((x) => x.fingerprint === r.fingerprint);
      if (dup) return { outcome: 'duplicate', id: dup.id };
      if (quota && rows.length + 1 > quota.maxReports)
        return { outcome: 'over-quota', reports: rows.length, bytes: 0 };
      const related = rows
        .filter((x) => r.incidentKey !== null && x.incidentKey === r.incidentKey)
        .map((x) => ({ id: x.id, sender: x.sender, sameDocument: x.documentSha256 === r.documentSha256 }));
      const conflict = related.some((x) => !x.sameDocument);
      const id = rows.length + 1;
      rows.push({ ...r, id, conflict });
      return { outcome: 'stored', id, conflict, related };
    },
  };
}

const summary: IodefSummary = {
  format: 'iodef-2.0',
  envelope: 'none',
  incidentId: 'x-1',
  incidentIdName: 'letsencrypt.org',
  reportTime: null,
  generationTime: '2026-11-24T06:41:00Z',
  detectTime: '2026-11-24T06:40:31Z',
  reporter: ["Let's Encrypt"],
  names: ['www.example.com'],
  descriptions: [],
  reason: 'issuer-not-authorized',
  validationMethod: 'dns-01',
  validationSucceeded: true,
  accountUri: null,
  caaRecords: ['example.com. CAA 0 issue "pki.goog"'],
  risk: 'high',
};

describe('formatReportLine', () => {
  it('says who was refused what, where, why and how risky', () => {
    expect(formatReportLine(summary, { receivedAt: '2026-11-24T07:00:00Z', schemaValid: true })).toBe(
      "HIGH    2026-11-24 06:40Z  Let's Encrypt refused www.example.com (CAA at example.com: issuer-not-authorized; " +
        "dns-01 validation had SUCCEEDED — someone controls this name's traffic)",
    );
  });

  it('prefers the per-name record location when the report carries it', () => {
    const refused = [
      {
        name: 'www.example.com',
        reason: 'issuer-not-authorized',
        explanation: '',
        foundAt: 'example.net.',
        aliasTarget: null,
        records: [],
        dnssec: 'unknown' as const,
      },
    ];
    const line = formatReportLine(
      { ...summary, refused },
      { receivedAt: '2026-11-24T07:00:00Z', schemaValid: true },
    );
    expect(line).toContain('(CAA at example.net: issuer-not-authorized;');
  });

  it('copes with a bare report and neutralises control and bidi characters', () => {
    const bare: IodefSummary = {
      ...summary,
      detectTime: null,
      generationTime: null,
      reporter: ['Evil\u001b[31m CA\u202e'],
      names: ['a.example', 'b.example', 'c.example', 'd.example'],
      reason: null,
      validationMethod: null,
      validationSucceeded: null,
      caaRecords: [],
      risk: 'low',
    };
    const line = formatReportLine(bare, { receivedAt: '2026-01-02T03:04:05Z', schemaValid: false });
    expect(line).toBe(
      'LOW     2026-01-02 03:04Z  Evil\\x1B[31m CA\\u202E refused a.example, b.example, c.example (+1 more) (no reason given; report not schema-valid)',
    );
    expect([...line].some((c) => c.charCodeAt(0) < 0x20 || c === '\u202e')).toBe(false);
    expect(oneLine('x'.repeat(50), 10)).toHaveLength(10);
  });
});

describe('acceptReport', () => {
  it('stores once, alerts once, and reports duplicates', async () => {
    const store = memoryStore();
    const seen: ReportAlert[] = [];
    const alert = async (a: ReportAlert): Promise<void> => {
      seen.push(a);
    };
    const input = {
      bytes: valid,
      sender: '192.0.2.1',
      channel: 'https' as const,
      receivedAt: '2026-11-24T06:40:00Z',
    };
    const first = await acceptReport(store, alert, input);
    expect(first).toMatchObject({ status: 'stored', id: 1, schemaValid: true, alertErrors: [] });
    const second = await acceptReport(store, alert, { ...input, bytes: Buffer.from(valid) });
    expect(second).toMatchObject({ status: 'duplicate', id: 1 });
    // The sender cannot tell its duplicate from a new report: the same reply for both.
    expect(first.status === 'stored' && second.status === 'duplicate').toBe(true);
    if (first.status === 'stored' && second.status === 'duplicate')
      expect(acceptedReply(second)).toBe(acceptedReply(first));
    expect(seen).toHaveLength(1);
    expect(store.rows[0]).toMatchObject({
      sender: '192.0.2.1',
      receivedAt: '2026-11-24T06:40:00Z',
      document: valid,
    });
  });

  it('keeps the report when the alert fails, and says so', async () => {
    const store = memoryStore();
    const r = await acceptReport(store, () => Promise.reject(new Error('sink down')), {
      bytes: valid,
      sender: 's',
      channel: 'smtp',
    });
    expect(r).toMatchObject({ status: 'stored', alertErrors: ['alert: sink down'] });
    expect(store.rows).toHaveLength(1);
  });

  it('rejects bad documents with a short reason and throws only when the store fails', async () => {
    const store = memoryStore();
    for (const [doc, code] of [
      ['<a', 'IODEF_MALFORMED'],
      ['<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>', 'IODEF_UNSAFE'],
      ['<a/>', 'IODEF_NOT_IODEF'],
    ] as const) {
      const r = await acceptReport(store, null, { bytes: doc, sender: 's', channel: 'https' });
      expect(r).toMatchObject({ status: 'rejected', code });
    }
    const big = await acceptReport(
      store,
      null,
      { bytes: valid, sender: 's', channel: 'https' },
      { maxBytes: 100 },
    );
    expect(big).toMatchObject({ status: 'rejected', code: 'IODEF_TOO_LARGE' });
    expect(store.rows).toHaveLength(0);
    await expect(
      acceptReport(memoryStore(true), null, { bytes: valid, sender: 's', channel: 'https' }),
    ).rejects.toThrow('database is down');
  });
});

describe('acceptReport: a forged report cannot hide a real one (issue 12)', () => {
  const real = valid;
  // Same IncidentID (ca1.example.net / caa-0001), other content: what an attacker sends first.
  const forged = valid.replace(
    '<ContactName>Example CA</ContactName>',
    '<ContactName>Nothing to see</ContactName>',
  );
  const alertsOf = () => {
    const seen: ReportAlert[] = [];
    return { seen, alert: async (a: ReportAlert): Promise<void> => void seen.push(a) };
  };

  it('stores and alerts the real report as conflicting-report after a same-IncidentID forgery', async () => {
    expect(forged).not.toBe(real);
    const store = memoryStore();
    const { seen, alert } = alertsOf();
    const f = await acceptReport(store, alert, {
      bytes: forged,
      sender: '198.51.100.66',
      senderKey: 'addr:198.51.100.66',
      channel: 'https',
    });
    const r = await acceptReport(store, alert, {
      bytes: real,
      sender: '192.0.2.10',
      senderKey: 'addr:192.0.2.10',
      channel: 'https',
    });
    expect(f).toMatchObject({ status: 'stored', conflict: false, alerted: true });
    expect(r).toMatchObject({ status: 'stored', conflict: true, alerted: true });
    expect(store.rows).toHaveLength(2);
    expect(seen).toHaveLength(2);
    const event = reportEvent(seen[1] as ReportAlert);
    expect(event.type === 'iodef-report' && event.report.kind).toBe('conflicting-report');
    expect(event.type === 'iodef-report' && event.report.conflictsWith).toEqual([1]);
    expect(seen[1]?.line).toContain('CONFLICTING REPORT');
  });

  it('a same-IncidentID report with other content from the SAME sender is a conflict too, not a duplicate', async () => {
    const store = memoryStore();
    const { seen, alert } = alertsOf();
    await acceptReport(store, alert, { bytes: real, sender: 's', channel: 'smtp' });
    const again = await acceptReport(store, alert, { bytes: forged, sender: 's', channel: 'smtp' });
    expect(again).toMatchObject({ status: 'stored', conflict: true });
    expect(seen).toHaveLength(2);
  });

  it('the same document from another sender is kept but not alerted twice; replies reveal nothing', async () => {
    const store = memoryStore();
    const { seen, alert } = alertsOf();
    const a = await acceptReport(store, alert, { bytes: real, sender: 'a', channel: 'https' });
    const b = await acceptReport(store, alert, { bytes: real, sender: 'b', channel: 'https' });
    expect(b).toMatchObject({ status: 'stored', conflict: false, alerted: false });
    expect(store.rows).toHaveLength(2);
    expect(seen).toHaveLength(1);
    // Each sender's reply depends on its own (sender, document) only: same shape, no counters.
    for (const x of [a, b])
      expect(x.status === 'stored' && acceptedReply(x)).toMatch(/^accepted report [0-9a-f]{16}$/);
  });

  it('answers over-quota once the daily cap is reached, storing nothing', async () => {
    const store = memoryStore();
    const quota = { maxReportsPerDay: 1, maxBytesPerDay: 1_000_000 };
    expect(
      (await acceptReport(store, null, { bytes: real, sender: 'a', channel: 'https' }, { quota })).status,
    ).toBe('stored');
    expect(
      (await acceptReport(store, null, { bytes: forged, sender: 'a', channel: 'https' }, { quota })).status,
    ).toBe('over-quota');
    expect(store.rows).toHaveLength(1);
  });
});

describe('addressKey and ConnectionCounter', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::ffff', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::1]', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s counts as %s', (address, key) => expect(addressKey(address)).toBe(key));

  it('caps concurrent connections per key', () => {
    const c = new ConnectionCounter(2);
    expect([c.acquire('a'), c.acquire('a'), c.acquire('a'), c.acquire('b')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    c.release('a');
    expect(c.acquire('a')).toBe(true);
    expect(c.count('a')).toBe(2);
  });
});

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the configured rate, per key', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ burst: 2, perMinute: 60 }, () => now);
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b')).toEqual({ allowed: true });
    now = 1_000;
    expect(limiter.take('a')).toEqual({ allowed: true });
  });

  it('keeps at most maxKeys senders', () => {
    const limiter = new TokenBucketLimiter({ burst: 1, perMinute: 1, maxKeys: 100 }, () => 0);
    for (let i = 0; i < 1_000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
