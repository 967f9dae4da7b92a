/**
 * `certvigil caa audit` end to end: the real collector against the audit stack
 * (test/harness/audit-stack.ts), through the library and through the built CLI with --json.
 */
import dgram from 'node:dgram';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAudit, buildReport } from '../src/caa/index.js';
import type { AuditReport, FindingId } from '../src/caa/index.js';
import { StubResolver } from '../src/dns/index.js';
import { openStore } from '../src/store/index.js';
import { ADDR, canRunAuditStack, startAuditStack } from './harness/audit-stack.js';
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
    const data = await collectAudit(domain, {
      resolver,
      timeoutMs: 800,
      directClient: (host, port, timeoutMs) =>
        new StubResolver({ servers: [{ host, port }], timeoutMs, attempts: 1 }),
    });
    return buildReport(data);
  };
  const idsOf = (r: AuditReport): FindingId[] => r.findings.map((f) => f.id);

  it('ok.test: signed, consistent, "issue letsencrypt.org" only → no-accounturi, nothing about servers', async () => {
    const r = await audit('ok.test');
    const ids = idsOf(r);
    expect(ids).toContain('no-accounturi');
    expect(r.findings.find((f) => f.id === 'no-accounturi')?.message).toMatch(/jabber\.ru/);
    for (const absent of [
      'lookup-failed',
      'domain-not-found',
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
      'lookup-failed',
      'ns-error',
      'ns-no-address',
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

  // Issue 12: a name that does not exist was graded B with no-caa.
  it.each(['nosuch.test', 'typo.ok.test'])(
    '%s (NXDOMAIN) → domain-not-found (error), grade error, exit 2; never no-caa',
    async (domain) => {
      const r = await audit(domain);
      expect(r.findings.map((f) => [f.id, f.severity])).toEqual([['domain-not-found', 'error']]);
      expect(r.grade).toBe('error');
      const res = await runCli(['caa', 'audit', domain, '--json', '--resolver', resolverArg]);
      expect(res.code).toBe(2);
      const [line] = jsonLines(res.stdout);
      expect(line).toMatchObject({ domain, grade: 'error', findings: [{ id: 'domain-not-found' }] });
      const human = await runCli(['caa', 'audit', domain, '--resolver', resolverArg]);
      expect(human.code).toBe(2);
      expect(human.stdout).toMatch(/grade error/);
      expect(human.stdout).toMatch(/ERROR +domain-not-found/);
    },
    30_000,
  );

  it('noaddr.test: a name server without any address is ns-no-address, and the other is still asked', async () => {
    const r = await audit('noaddr.test');
    expect(idsOf(r)).toContain('ns-no-address');
    expect(r.findings.find((f) => f.id === 'ns-no-address')?.name).toBe('ghost.ns.test');
    expect(idsOf(r)).not.toContain('lookup-failed');
  }, 30_000);

  it('a resolver that never answers: lookup-failed naming name/type/server, grade error, exit 2, bounded by --timeout x --attempts', async () => {
    // 127.0.0.6:53 reads queries and never answers (the ns-timeout server) — as a *resolver*.
    const started = Date.now();
    const res = await runCli([
      'caa',
      'audit',
      'ok.test',
      '--json',
      '--resolver',
      `${ADDR.hole}:53`,
      '--timeout',
      '400ms',
      '--attempts',
      '2',
    ]);
    const elapsed = Date.now() - started;
    expect(res.code, res.stderr).toBe(2);
    const [line] = jsonLines(res.stdout);
    expect(line?.grade).toBe('error');
    const findings = line?.findings as { id: string; severity: string; name: string; message: string }[];
    expect(findings.map((f) => f.id)).toEqual(['lookup-failed']);
    expect(findings[0]?.severity).toBe('error');
    expect(findings[0]?.name).toBe('ok.test/SOA');
    expect(findings[0]?.message).toContain(`${ADDR.hole}:53`);
    // One lookup (2 attempts x 400 ms) and stop; before the fix every stage waited in turn.
    expect(elapsed).toBeLessThan(2 * 400 + 2500);
  }, 30_000);

  it('a resolver that never answers, default --timeout/--attempts: one lookup (3 s x 2), not 24 s', async () => {
    const started = Date.now();
    const res = await runCli(['caa', 'audit', 'ok.test', '--resolver', `${ADDR.hole}:53`]);
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/grade error/);
    expect(res.stdout).toMatch(/ERROR +lookup-failed +ok\.test\/SOA/);
    expect(res.stdout).not.toMatch(/no findings/);
    expect(Date.now() - started).toBeLessThan(6000 + 2500);
  }, 30_000);
});

describe('caa audit with no resolver listening', () => {
  it('a closed resolver port is refused at once: lookup-failed, grade error, exit 2, well under a second', async () => {
    // A port that was free a moment ago: nothing listens, so the kernel answers ICMP port unreachable.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = (sock.address() as { port: number }).port;
    await new Promise<void>((r) => sock.close(() => r()));
    const started = Date.now();
    const res = await runCli([
      'caa',
      'audit',
      'example.com',
      'example.org',
      '--json',
      '--resolver',
      `127.0.0.1:${port}`,
    ]);
    expect(res.code).toBe(2);
    const lines = jsonLines(res.stdout);
    expect(lines.map((l) => l.grade)).toEqual(['error', 'error']);
    for (const l of lines) {
      const f = (l.findings as { id: string; message: string }[])[0];
      expect(f?.id).toBe('lookup-failed');
      expect(f?.message).toContain(`127.0.0.1:${port}`);
    }
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);
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
      // `caa audit` only reads the store (see the next test): create an empty one as the monitor would.
      const store = await openStore({ stateDir });
      await store.migrate();
      await store.close();
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

  it('a state directory without a monitor store is a usage error, and no store is created in it', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certvigil-audit-state-'));
    try {
      const resolver = `${stack.resolver.host}:${stack.resolver.port}`;
      const res = await runCli(['caa', 'audit', 'ok.test', '--resolver', resolver, '--state-dir', stateDir]);
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^certvigil: no certvigil state at .*\n$/);
      expect(await readdir(stateDir)).toEqual([]);
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
    expect(res.stdout).toMatch(/Grade: "error" any error finding; F/);
    expect(res.stdout).toMatch(/lookup-failed/);
    expect(res.stdout).toMatch(/domain-not-found/);
    expect(res.stdout).toMatch(/--state-dir/);
  });
});
