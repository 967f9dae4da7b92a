/**
 * The CAA engine and `certvigil caa check` against a real DNS stack: Knot DNS authoritative for
 * caa.test. (records from the shared vectors plus our own), NSD, and a validating Unbound with a
 * trust anchor for caa.test. — all started on loopback ports by test/harness/dns-stack.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCaa, evaluateCaaMany } from '../src/caa/index.js';
import { StubResolver } from '../src/dns/index.js';
import { OWN_CASES, OWN_RECORDS } from './caa-own-cases.js';
import { jsonLines, runCli } from './cli-run.js';
import { startDnsStack } from './harness/dns-stack.js';
import type { DnsStack } from './harness/dns-stack.js';

interface VectorCase {
  name: string;
  wildcard: boolean;
  issuer: string;
  accountUri: string | null;
  method: string;
  expect: 'allow' | 'deny' | 'error';
  why: string;
}
interface FailureCase {
  name: string;
  setup: string;
  expect: 'error' | 'allow';
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/caa-cases.json', import.meta.url), 'utf8')) as {
  cases: VectorCase[];
  failure_cases: FailureCase[];
};

const LE = 'letsencrypt.org';
const ACCT = 'https://acme-v02.api.letsencrypt.org/acme/acct/1234567';

let stack: DnsStack;
let resolverArg: string;
let resolver: StubResolver;

beforeAll(async () => {
  stack = await startDnsStack({ extraRecords: OWN_RECORDS });
  resolverArg = `${stack.resolver.host}:${stack.resolver.port}`;
  resolver = new StubResolver({ servers: [stack.resolver], timeoutMs: 4000, attempts: 2 });
});

afterAll(async () => {
  await stack?.stop();
});

function cliArgs(c: { name: string; issuer: string; accountUri: string | null; method: string }): string[] {
  const args = [
    'caa',
    'check',
    c.name,
    '--ca',
    c.issuer,
    '--method',
    c.method,
    '--resolver',
    resolverArg,
    '--json',
  ];
  if (c.accountUri) args.push('--account-uri', c.accountUri);
  return args;
}

const EXIT_FOR = { allow: 0, deny: 1, error: 2 } as const;

describe('shared vectors: cases', () => {
  it.each(vectors.cases.map((c) => [c.name, c.accountUri ?? 'no account', c.method, c.expect, c]))(
    'library: %s (%s, %s) → %s',
    async (_n, _a, _m, _e, c) => {
      const r = await evaluateCaa(
        { name: c.name, issuerDomains: [c.issuer], accountUri: c.accountUri, validationMethod: c.method },
        resolver,
      );
      expect(r.wildcard).toBe(c.wildcard);
      expect(r.decision, `${c.why}\n${r.explanation}`).toBe(c.expect);
    },
  );

  it.each(vectors.cases.map((c) => [c.name, c.accountUri ?? 'no account', c.method, c.expect, c]))(
    'CLI: %s (%s, %s) → %s',
    async (_n, _a, _m, _e, c) => {
      const out = await runCli(cliArgs(c));
      const [line, ...rest] = jsonLines(out.stdout);
      expect(rest).toEqual([]);
      expect(line).toMatchObject({ name: c.name, decision: c.expect });
      for (const key of ['reason', 'foundAt', 'records', 'dnssec']) expect(line).toHaveProperty(key);
      expect(out.code, out.stderr).toBe(EXIT_FOR[c.expect]);
    },
  );
});

describe('shared vectors: failure cases', () => {
  it.each(vectors.failure_cases.map((c) => [c.name, c.expect, c]))('%s → %s', async (_n, _e, c) => {
    const started = Date.now();
    const out = await runCli(cliArgs({ name: c.name, issuer: LE, accountUri: ACCT, method: 'http-01' }));
    const [line] = jsonLines(out.stdout);
    expect(line, out.stderr).toMatchObject({ name: c.name, decision: c.expect });
    expect(out.code).toBe(EXIT_FOR[c.expect]);
    // "must give up within the configured timeout, not hang": default 3 s × 2 attempts, plus slack.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('reports each failure with a precise reason and the DNSSEC status', async () => {
    const names = vectors.failure_cases.map((c) => c.name);
    const results = await evaluateCaaMany(
      names,
      { issuerDomains: [LE], accountUri: ACCT, validationMethod: 'http-01' },
      resolver,
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName['servfail.caa.test']).toMatchObject({ decision: 'error', reason: 'dns-servfail' });
    expect(byName['refused.caa.test']).toMatchObject({ decision: 'error', reason: 'dns-servfail' });
    expect(['dns-servfail', 'dns-timeout']).toContain(byName['blackhole.caa.test']?.reason);
    expect(byName['expired.signed.caa.test']).toMatchObject({
      decision: 'error',
      reason: 'dnssec-bogus',
      dnssec: 'bogus',
    });
    expect(byName['missing.signed.caa.test']).toMatchObject({
      decision: 'error',
      reason: 'dnssec-bogus',
      dnssec: 'bogus',
    });
    expect(byName['ok.signed.caa.test']).toMatchObject({
      decision: 'allow',
      reason: 'authorized',
      dnssec: 'secure',
      foundAt: 'ok.signed.caa.test',
    });
    for (const r of results.filter((x) => x.decision === 'error')) {
      expect(r.explanation).toMatch(/must not issue/);
    }
  });
});

describe('own cases', () => {
  it.each(OWN_CASES.map((c) => [c.name, c.expect, c.reason, c]))('%s → %s (%s)', async (_n, _e, _r, c) => {
    const r = await evaluateCaa(
      {
        name: c.name,
        issuerDomains: [c.issuer ?? LE],
        accountUri: c.accountUri === undefined ? ACCT : c.accountUri,
        validationMethod: c.method ?? 'http-01',
      },
      resolver,
    );
    expect({ decision: r.decision, reason: r.reason }, `${c.why}\n${r.explanation}`).toEqual({
      decision: c.expect,
      reason: c.reason,
    });
  });
});

describe('details a CA relies on', () => {
  it('answers for test. itself (NODATA, not a failure)', async () => {
    const r = await resolver.query('test', 'CAA');
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers.filter((a) => a.type === 'CAA')).toEqual([]);
    const nx = await resolver.query('no-such-name.test', 'CAA');
    expect(nx.rcode).toBe('NXDOMAIN');
  });

  it('reads all 1,001 records at big.caa.test over TCP after a truncated UDP answer', async () => {
    const r = await evaluateCaa({ name: 'big.caa.test', issuerDomains: [LE] }, resolver);
    expect(r.records).toHaveLength(1001);
    expect(r.lookups[0]?.transport).toBe('tcp');
    expect(r.decision).toBe('deny');
  });

  it('reports secure for a signed answer, insecure when an unsigned level was consulted', async () => {
    const [le, any] = await evaluateCaaMany(
      ['le.caa.test', 'allow-any.caa.test'],
      { issuerDomains: [LE] },
      resolver,
    );
    expect(le?.dnssec).toBe('secure');
    expect(any?.dnssec).toBe('insecure');
  });

  it('reports the TTL and the BR §3.2.2.8 reuse period', async () => {
    const r = await evaluateCaa({ name: 'ttl300.caa.test', issuerDomains: [LE] }, resolver);
    expect(r.ttl).toBeLessThanOrEqual(300);
    expect(r.ttl).toBeGreaterThan(0);
    expect(r.reusableForSeconds).toBe(8 * 3600);
  });

  it('names the alias target for a CNAME', async () => {
    const r = await evaluateCaa({ name: 'cname-cname-other.caa.test', issuerDomains: [LE] }, resolver);
    expect(r).toMatchObject({
      foundAt: 'cname-cname-other.caa.test',
      aliasTarget: 'other.caa.test',
      decision: 'deny',
    });
  });

  it('evaluates a SAN list concurrently, one result per name in order', async () => {
    const names = ['le.caa.test', 'other.caa.test', '*.nowild.caa.test', 'sub.le.caa.test'];
    const results = await evaluateCaaMany(
      names,
      { issuerDomains: [LE], accountUri: ACCT, validationMethod: 'http-01' },
      resolver,
    );
    expect(results.map((r) => [r.name, r.decision])).toEqual([
      ['le.caa.test', 'allow'],
      ['other.caa.test', 'deny'],
      ['*.nowild.caa.test', 'deny'],
      ['sub.le.caa.test', 'allow'],
    ]);
  });
});

describe('certvigil caa check (CLI contract)', () => {
  it('prints one JSON line per name and exits 1 when any is denied', async () => {
    const out = await runCli([
      'caa',
      'check',
      'le.caa.test',
      'other.caa.test',
      '--ca',
      LE,
      '--resolver',
      resolverArg,
      '--json',
    ]);
    expect(jsonLines(out.stdout).map((l) => [l.name, l.decision])).toEqual([
      ['le.caa.test', 'allow'],
      ['other.caa.test', 'deny'],
    ]);
    expect(out.code).toBe(1);
  });

  it('exits 2 when a lookup fails, even if another name is denied', async () => {
    const out = await runCli([
      'caa',
      'check',
      'other.caa.test',
      'servfail.caa.test',
      '--ca',
      LE,
      '--resolver',
      resolverArg,
    ]);
    expect(out.code).toBe(2);
  });

  it('exits 0 when every name is allowed, with a one-line explanation per name', async () => {
    const out = await runCli([
      'caa',
      'check',
      'le.caa.test',
      '*.le.caa.test',
      '--ca',
      LE,
      '--resolver',
      resolverArg,
    ]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ALLOW le\.caa\.test: CAA at le\.caa\.test authorises letsencrypt\.org/);
    expect(out.stdout).not.toContain('\u001b['); // NO_COLOR honoured
  });

  it('explains a denial with the account it expected', async () => {
    const out = await runCli([
      'caa',
      'check',
      'acct.caa.test',
      '--ca',
      LE,
      '--account-uri',
      `${ACCT}0`,
      '--resolver',
      resolverArg,
    ]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`only for ACME account(s) ${ACCT}; the request came from ${ACCT}0`);
  });

  it('gives up on a resolver that never answers within --timeout × --attempts', async () => {
    const started = Date.now();
    const bh = `${stack.blackhole.host}:${stack.blackhole.port}`;
    const out = await runCli([
      'caa',
      'check',
      'le.caa.test',
      '--ca',
      LE,
      '--resolver',
      bh,
      '--timeout',
      '300',
      '--attempts',
      '2',
      '--json',
    ]);
    expect(out.code).toBe(2);
    expect(jsonLines(out.stdout)[0]).toMatchObject({ decision: 'error', reason: 'dns-timeout' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('rejects usage errors with exit 2 and a message on stderr', async () => {
    const missingCa = await runCli(['caa', 'check', 'le.caa.test']);
    expect(missingCa.code).toBe(2);
    expect(missingCa.stderr).toMatch(/--ca/);
    const badResolver = await runCli(['caa', 'check', 'x.test', '--ca', LE, '--resolver', 'dns.example:53']);
    expect(badResolver.code).toBe(2);
    expect(badResolver.stderr).toMatch(/IP address/);
  });

  it('shows help and version with exit 0', async () => {
    const help = await runCli(['caa', 'check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--account-uri/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
