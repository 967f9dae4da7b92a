/**
 * evaluateCaaMany (one certificate's names, lookups shared within the request) against the real DNS
 * stack of test/harness/dns-stack.ts: every name's result must be the one evaluateCaa gives for it
 * alone, the shared parents must be asked once per request, and nothing may be remembered between
 * requests. The resolver under both is the StubResolver with its shared UDP sockets (udp-pool.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCaa, evaluateCaaMany } from '../src/caa/index.js';
import type { CaaResolverPort, CaaResult } from '../src/caa/index.js';
import { StubResolver } from '../src/dns/index.js';
import { OWN_CASES, OWN_RECORDS } from './caa-own-cases.js';
import { startDnsStack } from './harness/dns-stack.js';
import type { DnsStack } from './harness/dns-stack.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/caa-cases.json', import.meta.url), 'utf8')) as {
  cases: { name: string }[];
  failure_cases: { name: string }[];
};

const REQUEST = {
  issuerDomains: ['letsencrypt.org'],
  accountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/1234567',
  validationMethod: 'http-01',
};

let stack: DnsStack;
let resolver: StubResolver;

beforeAll(async () => {
  stack = await startDnsStack({ extraRecords: OWN_RECORDS });
  resolver = new StubResolver({ servers: [stack.resolver], timeoutMs: 4000, attempts: 2 });
});

afterAll(async () => {
  resolver?.close();
  await stack?.stop();
});

/** TTLs count down in Unbound's cache between the two runs: equal within a few seconds. */
function expectSameTtl(a: CaaResult, b: CaaResult): void {
  expect(a.ttl === null, a.name).toBe(b.ttl === null);
  expect(Math.abs((a.ttl ?? 0) - (b.ttl ?? 0)), a.name).toBeLessThanOrEqual(5);
}

/**
 * What must not depend on batching. Left out: timings, TTLs (see expectSameTtl), the order of an RRset (Unbound rotates it, so lists and the explanation's record list are
 * compared as sets) and an EDE's free text (Unbound words a cached bogus answer differently).
 */
function essence(r: CaaResult): unknown {
  const texts = (views: readonly { text: string }[]) => views.map((v) => v.text).sort();
  return {
    name: r.name,
    decision: r.decision,
    reason: r.reason,
    lookupName: r.lookupName,
    wildcard: r.wildcard,
    foundAt: r.foundAt,
    aliasTarget: r.aliasTarget,
    records: texts(r.records),
    authorizedBy: texts(r.authorizedBy),
    ttl: r.ttl === null ? null : 'set',
    reusableForSeconds: r.reusableForSeconds, // max(TTL, 8 h): the zones' TTLs are all below 8 h
    request: r.request,
    dnssec: r.dnssec,
    explanation: r.explanation
      .replace(/\(EDE .*$/, '')
      .split(/[\s,]+/)
      .sort(),
    lookups: r.lookups.map((l) => ({
      name: l.name,
      rcode: l.rcode,
      dnssec: l.dnssec,
      caaRecords: l.caaRecords,
      aliasTarget: l.aliasTarget,
      transport: l.transport,
      server: l.server,
      error: l.error?.replace(/\(EDE .*$/, '') ?? null,
      ede: l.extendedErrors.map((e) => e.code),
    })),
  };
}

/** A port that counts the queries reaching the resolver, per name. */
function counting(inner: CaaResolverPort): CaaResolverPort & { asked: Map<string, number> } {
  const asked = new Map<string, number>();
  return {
    asked,
    query(name, type, options) {
      asked.set(name, (asked.get(name) ?? 0) + 1);
      return inner.query(name, type, options);
    },
  };
}

describe('evaluateCaaMany on the real DNS stack', () => {
  const names = [
    ...new Set([
      ...vectors.cases.map((c) => c.name),
      ...OWN_CASES.map((c) => c.name),
      ...vectors.failure_cases.map((c) => c.name),
    ]),
  ];

  it('gives every name of a batch the result evaluateCaa gives it alone (fail-closed cases included)', async () => {
    const batched = await evaluateCaaMany(names, REQUEST, resolver);
    const alone: CaaResult[] = [];
    for (const name of names) alone.push(await evaluateCaa({ ...REQUEST, name }, resolver));
    expect(batched.map((r) => r.name)).toEqual(names);
    expect(batched.map(essence)).toEqual(alone.map(essence));
    batched.forEach((r, i) => expectSameTtl(r, alone[i] as CaaResult));
    // The failure cases stay errors inside a batch: a SERVFAIL or timeout for one name is that name's error.
    const byName = new Map(batched.map((r) => [r.name, r]));
    for (const name of ['servfail.caa.test', 'refused.caa.test', 'blackhole.caa.test', 'loop1.caa.test']) {
      expect(byName.get(name)?.decision, name).toBe('error');
    }
  });

  it('asks each shared parent once per request, and again in the next request (no cache outlives it)', async () => {
    const port = counting(resolver);
    const sans = [
      'le.caa.test',
      'sub.le.caa.test',
      'a.b.sub.le.caa.test',
      'other.caa.test',
      'sub1.other.caa.test',
    ];
    const first = await evaluateCaaMany(sans, REQUEST, port);
    expect(first.map((r) => r.decision)).toEqual(['allow', 'allow', 'allow', 'deny', 'deny']);
    expect(Math.max(...port.asked.values())).toBe(1);
    expect(port.asked.get('caa.test')).toBe(1);
    expect(port.asked.get('test')).toBe(1);
    await evaluateCaaMany(sans, REQUEST, port);
    expect(port.asked.get('caa.test')).toBe(2);
    expect(port.asked.get('le.caa.test')).toBe(2);
  });

  it('keeps 100 names of one request apart: each result belongs to its own name', async () => {
    const sans = Array.from({ length: 100 }, (_, i) => names[i % names.length] as string);
    const results = await evaluateCaaMany(sans, REQUEST, resolver);
    expect(results.map((r) => r.name)).toEqual(sans);
    const alone = new Map<string, unknown>();
    for (const name of new Set(sans))
      alone.set(name, essence(await evaluateCaa({ ...REQUEST, name }, resolver)));
    for (const r of results) expect(essence(r), r.name).toEqual(alone.get(r.name));
  });
});
