import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, canRunAuditStack, caseBugAnswer, startAuditStack } from './audit-stack.js';
import type { AuditStack } from './audit-stack.js';
import { queryDns } from './raw-query.js';

describe('caseBugAnswer (pure)', () => {
  it('answers the lower-case name and NXDOMAIN for a mixed-case one', () => {
    const q = (name: string) => ({
      type: 'query' as const,
      id: 1,
      questions: [{ name, type: 'CAA' as const, class: 'IN' as const }],
    });
    expect((caseBugAnswer(q('case.test')).flags ?? 0) & 0xf).toBe(0);
    expect(caseBugAnswer(q('case.test')).answers).toHaveLength(1);
    expect((caseBugAnswer(q('CaSe.test')).flags ?? 0) & 0xf).toBe(3);
  });
});

const skip = canRunAuditStack();
describe.skipIf(skip !== null)(`audit stack${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let stack: AuditStack;
  beforeAll(async () => {
    stack = await startAuditStack();
  }, 30_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('servers behave as designed', async () => {
    const direct = (host: string, name: string, timeoutMs = 500) =>
      queryDns({ host, port: 53 }, name, 'CAA', { recursionDesired: false, timeoutMs });
    expect((await direct(ADDR.a, 'ok.test.')).packet.answers?.some((a) => a.type === 'CAA')).toBe(true);
    expect((await direct(ADDR.b, 'ok.test.')).rcode).toBe('NOERROR');
    expect(
      (await direct(ADDR.c, 'disagree.test.')).packet.answers?.filter((a) => a.type === 'CAA'),
    ).toHaveLength(2);
    expect((await direct(ADDR.refused, 'refused.test.')).rcode).toBe('REFUSED');
    await expect(direct(ADDR.hole, 'timeout.test.', 300)).rejects.toThrow();
    expect((await direct(ADDR.caseBug, 'case.test.')).rcode).toBe('NOERROR');
    expect((await direct(ADDR.caseBug, 'CASE.test.')).rcode).toBe('NXDOMAIN');
  });

  it('the resolver validates ok.test. and finds bogus.test. bogus', async () => {
    const ok = await queryDns(stack.resolver, 'ok.test.', 'CAA', { timeoutMs: 3000 });
    expect(ok.rcode).toBe('NOERROR');
    expect(ok.packet.flag_ad).toBe(true);
    const bogus = await queryDns(stack.resolver, 'bogus.test.', 'CAA', { timeoutMs: 3000 });
    expect(bogus.rcode).toBe('SERVFAIL');
    expect(bogus.ede.length).toBeGreaterThan(0);
  });
});
