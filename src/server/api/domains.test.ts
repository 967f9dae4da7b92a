import { describe, expect, it } from 'vitest';
import type { DomainAuditRecord, Store } from '../../store/index.js';
import { startAuditSchedule } from './domains.js';

function fakeStore(): { store: Store; audits: DomainAuditRecord[] } {
  const audits: DomainAuditRecord[] = [];
  const store = {
    putDomainAudit: async (r: DomainAuditRecord) => {
      audits.push(r);
    },
  } as unknown as Store;
  return { store, audits };
}

describe('startAuditSchedule', () => {
  it('audits every watched domain at most `concurrency` at a time; a failure is logged, not fatal', async () => {
    const { store, audits } = fakeStore();
    const warnings: Record<string, unknown>[] = [];
    let running = 0;
    let peak = 0;
    const schedule = startAuditSchedule({
      store,
      logger: {
        info: () => undefined,
        warn: (o) => warnings.push(o as Record<string, unknown>),
        error: () => undefined,
      },
      watchedDomains: async () => ['a.test', 'b.test', 'c.test', 'd.test', 'e.test', 'bad.test', 'A.TEST'],
      auditDomain: async (d) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
        if (d === 'bad.test') throw new Error('SERVFAIL \u001b[2J');
        return { domain: d, grade: 'A' };
      },
      concurrency: 2,
      intervalMs: 3_600_000,
    });
    const result = await schedule.runOnce();
    await schedule.stop();
    expect(result).toEqual({ audited: 5, failed: 1 });
    expect(peak).toBe(2);
    expect(audits.map((a) => a.domain).sort()).toEqual(['a.test', 'b.test', 'c.test', 'd.test', 'e.test']);
    expect(JSON.parse(audits[0]?.resultJson ?? '')).toMatchObject({ grade: 'A' });
    expect(warnings).toEqual([{ domain: 'bad.test', err: 'SERVFAIL \\x1B[2J' }]);
  });

  it('a watch list that cannot be read is logged, and the next pass tries again', async () => {
    const { store } = fakeStore();
    const warnings: string[] = [];
    let calls = 0;
    const schedule = startAuditSchedule({
      store,
      logger: { info: () => undefined, warn: (_o, m) => warnings.push(m), error: () => undefined },
      watchedDomains: async () => {
        calls++;
        throw new Error('gone');
      },
      auditDomain: async () => ({}),
    });
    expect(await schedule.runOnce()).toEqual({ audited: 0, failed: 1 });
    await schedule.stop();
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/watch list not readable/);
  });
});
