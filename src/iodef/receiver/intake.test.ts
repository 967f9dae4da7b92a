import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IodefReceivedInput } from '../../store/types.js';
import type { IodefSummary } from '../types.js';
import { acceptReport, formatReportLine, oneLine } from './intake.js';
import type { ReportAlert } from './intake.js';
import { TokenBucketLimiter } from './rate-limit.js';

const valid = readFileSync(
  join(import.meta.dirname, '../../../test/vectors/iodef/valid-minimal-v2.xml'),
  'utf8',
);

/** An in-memory store with the one method the intake uses; `fail` makes it throw. */
function memoryStore(fail = false) {
  const rows: IodefReceivedInput[] = [];
  return {
    rows,
    async storeReceivedIodef(r: IodefReceivedInput) {
      if (fail) throw new Error('database is down');
      const at = rows.findIndex((x) => x.fingerprint === r.fingerprint);
      if (at >= 0) return { id: at + 1, isNew: false };
      rows.push(r);
      return { id: rows.length, isNew: true };
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
      'LOW     2026-01-02 03:04Z  Evil [31m CA refused a.example, b.example, c.example (+1 more) (no reason given; report not schema-valid)',
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
