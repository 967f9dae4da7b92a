/**
 * `certvigil caa audit` end to end: the real collector against the audit stack
 * (test/harness/audit-stack.ts), through the library and through the built CLI with --json.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAudit, buildReport } from '../src/caa/audit/index.js';
import type { AuditReport, FindingId } from '../src/caa/audit/index.js';
import { StubResolver } from '../src/dns/index.js';
import { canRunAuditStack, startAuditStack } from './harness/audit-stack.js';
import type { AuditStack } from './harness/audit-stack.js';
import { jsonLines, runCli } from './cli-run.js';

const skip = canRunAuditStack();

describe.skipIf(skip !== null)(`caa audit against real servers${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let stack: AuditStack;
  let resolverArg: string;
  beforeAll(async () => {
    stack = await startAuditStack();
    resolverArg = `${stack.resolver.host}:${stack.resolver.port}`;
  }, 30_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const audit = async (domain: string): Promise<AuditReport> => {
    const resolver = new StubResolver({ servers: [stack.resolver], timeoutMs: 4000, attempts: 2 });
    const data = await collectAudit(domain, { resolver, timeoutMs: 800 });
    return buildReport(data);
  };
  const idsOf = (r: AuditReport): FindingId[] => r.findings.map((f) => f.id);

  it('ok.test: signed, consistent, "issue letsencrypt.org" only → no-accounturi, nothing about servers', async () => {
    const r = await audit('ok.test');
    const ids = idsOf(r);
    expect(ids).toContain('no-accounturi');
    expect(r.findings.find((f) => f.id === 'no-accounturi')?.message).toMatch(/jabber\.ru/);
    for (const absent of [
      'no-caa',
      'ns-disagree',
      'ns-timeout',
      'ns-refused',
      'ns-case-mishandled',
      'dnssec-unsigned',
      'dnssec-bogus',
    ])
      expect(ids).not.toContain(absent);
  }, 30_000);

  it.each<[string, FindingId]>([
    ['nocaa.test', 'no-caa'],
    ['nocaa.test', 'dnssec-unsigned'],
    ['disagree.test', 'ns-disagree'],
    ['refused.test', 'ns-refused'],
    ['timeout.test', 'ns-timeout'],
    ['case.test', 'ns-case-mishandled'],
    ['bogus.test', 'dnssec-bogus'],
  ])(
    '%s → %s',
    async (domain, id) => {
      const r = await audit(domain);
      expect(idsOf(r), JSON.stringify(r.findings.map((f) => [f.id, f.name]))).toContain(id);
    },
    30_000,
  );

  it('bogus.test: the zone cut is still found (CD) and the failure is not called no-caa', async () => {
    const r = await audit('bogus.test');
    expect(r.findings.find((f) => f.id === 'dnssec-bogus')?.name).toBe('bogus.test');
    expect(idsOf(r)).not.toContain('no-caa');
    expect(r.grade).toBe('F');
  }, 30_000);

  it('ns findings are absent where the servers behave', async () => {
    const r = await audit('nocaa.test');
    for (const absent of [
      'ns-disagree',
      'ns-timeout',
      'ns-refused',
      'ns-case-mishandled',
      'dnssec-bogus',
      'no-accounturi',
    ])
      expect(idsOf(r)).not.toContain(absent);
  }, 30_000);

  it('CLI --json: one line per domain, exit status by worst severity', async () => {
    const res = await runCli([
      'caa',
      'audit',
      'ok.test',
      'case.test',
      'bogus.test',
      '--json',
      '--resolver',
      resolverArg,
      '--timeout',
      '2000',
    ]);
    const lines = jsonLines(res.stdout);
    expect(lines.map((l) => l.domain)).toEqual(['ok.test', 'case.test', 'bogus.test']);
    const ids = (i: number) => ((lines[i]?.findings ?? []) as { id: string }[]).map((f) => f.id);
    expect(ids(0)).toContain('no-accounturi');
    expect(ids(1)).toContain('ns-case-mishandled');
    expect(ids(2)).toContain('dnssec-bogus');
    for (const l of lines)
      for (const f of l.findings as Record<string, unknown>[])
        expect(Object.keys(f).sort()).toEqual(['fix', 'id', 'message', 'name', 'severity']);
    expect(lines[1]?.grade).toBe('F');
    expect(res.code).toBe(2);
  }, 60_000);

  it('CLI: warnings only → exit 1; the human table names the finding', async () => {
    const json = await runCli(['caa', 'audit', 'ok.test', '--json', '--resolver', resolverArg]);
    expect(json.code).toBe(1);
    const human = await runCli(['caa', 'audit', 'ok.test', '--resolver', resolverArg]);
    expect(human.stdout).toMatch(/no-accounturi/);
    expect(human.code).toBe(1);
  }, 60_000);

  it('CLI: --timeout/--ns-port are honoured and ns-timeout/ns-refused/ns-disagree/no-caa show in --json', async () => {
    const res = await runCli([
      'caa',
      'audit',
      'timeout.test',
      'refused.test',
      'disagree.test',
      'nocaa.test',
      '--json',
      '--resolver',
      resolverArg,
      '--timeout',
      '1000',
      '--ns-port',
      '53',
    ]);
    const lines = jsonLines(res.stdout);
    const ids = (i: number) => ((lines[i]?.findings ?? []) as { id: string }[]).map((f) => f.id);
    expect(ids(0)).toContain('ns-timeout');
    expect(ids(1)).toContain('ns-refused');
    expect(ids(2)).toContain('ns-disagree');
    expect(ids(3)).toContain('no-caa');
    expect(ids(3)).toContain('dnssec-unsigned');
  }, 60_000);
});

describe.skipIf(skip !== null)('caa audit --state-dir', () => {
  let stack: AuditStack;
  beforeAll(async () => {
    stack = await startAuditStack();
  }, 30_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('with an empty monitor store every allowed CA is reported unused-ca (info); without it, never', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certvigil-audit-state-'));
    try {
      const resolver = `${stack.resolver.host}:${stack.resolver.port}`;
      const withStore = await runCli([
        'caa',
        'audit',
        'ok.test',
        '--json',
        '--resolver',
        resolver,
        '--state-dir',
        stateDir,
      ]);
      const ids = (out: string) => ((jsonLines(out)[0]?.findings ?? []) as { id: string }[]).map((f) => f.id);
      expect(ids(withStore.stdout), withStore.stderr).toContain('unused-ca');
      const without = await runCli(['caa', 'audit', 'ok.test', '--json', '--resolver', resolver]);
      expect(ids(without.stdout)).not.toContain('unused-ca');
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('caa audit --help', () => {
  it('documents exit status, grades and the unused-ca input', async () => {
    const res = await runCli(['caa', 'audit', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Exit status: 0/);
    expect(res.stdout).toMatch(/Grade: F/);
    expect(res.stdout).toMatch(/--state-dir/);
  });
});
