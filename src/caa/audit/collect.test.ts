import { describe, expect, it } from 'vitest';
import { CertvigilError } from '../../errors.js';
import type { DnsClient, DnsRecord, DnsResponse, QueryOptions } from '../../dns/index.js';
import { collectAudit, randomCase } from './collect.js';
import { auditFindings } from './findings.js';

const rec = (name: string, data: DnsRecord['data']): DnsRecord => ({
  name,
  rawName: name,
  type: data.type === 'OTHER' ? data.typeName : data.type,
  ttl: 300,
  data,
});
function resp(answers: DnsRecord[], extra: Partial<DnsResponse> = {}): DnsResponse {
  return {
    id: 1,
    rcode: 'NOERROR',
    flags: {
      authoritative: true,
      truncated: false,
      recursionDesired: false,
      recursionAvailable: false,
      authenticData: false,
      checkingDisabled: false,
    },
    question: null,
    answers,
    authorities: [],
    additionals: [],
    extendedErrors: [],
    validation: 'unauthenticated',
    ednsUdpSize: 1232,
    server: { host: '192.0.2.1', port: 53 },
    transport: 'udp',
    elapsedMs: 1,
    ...extra,
  };
}
const LE = rec('example.com', { type: 'CAA', flags: 0, tag: 'issue', value: 'letsencrypt.org' });

/** A fake recursive resolver for example.com (zone), ns1/ns2.example.com. */
const resolver: DnsClient = {
  query(name: string, type: string): Promise<DnsResponse> {
    if (type === 'SOA' && name === 'example.com')
      return Promise.resolve(
        resp([
          rec('example.com', {
            type: 'SOA',
            mname: 'ns1.example.com',
            rname: 'h.example.com',
            serial: 1,
            minimum: 5,
          }),
        ]),
      );
    // www.example.com is an alias: a resolver answers any question for it with the CNAME chain.
    if (name === 'www.example.com')
      return Promise.resolve(resp([rec('www.example.com', { type: 'CNAME', target: 'cdn.other.example' })]));
    if (type === 'SOA') return Promise.resolve(resp([], { rcode: 'NXDOMAIN' }));
    if (type === 'NS')
      return Promise.resolve(
        resp(['ns1', 'ns2'].map((n) => rec('example.com', { type: 'NS', host: `${n}.example.com` }))),
      );
    if (type === 'A')
      return Promise.resolve(
        resp([rec(name, { type: 'A', address: name.startsWith('ns1') ? '192.0.2.1' : '192.0.2.2' })]),
      );
    if (type === 'CAA' && name === 'www.example.com')
      return Promise.resolve(resp([rec('www.example.com', { type: 'CNAME', target: 'cdn.other.example' })]));
    if (type === 'CAA' && name === 'example.com') return Promise.resolve(resp([LE]));
    if (type === 'DS') return Promise.resolve(resp([]));
    return Promise.resolve(resp([]));
  },
};

describe('collectAudit (fake DNS)', () => {
  it('finds the zone, asks every server for every in-zone name in both cases, and feeds the findings', async () => {
    const asked: string[] = [];
    const data = await collectAudit('www.example.com', {
      resolver,
      mixCase: (n) => n.toUpperCase(),
      directClient: (address) => ({
        query(name: string, _type: string, options?: QueryOptions): Promise<DnsResponse> {
          asked.push(`${address} ${name} rd=${String(options?.recursionDesired)}`);
          if (address === '192.0.2.2') return Promise.reject(new CertvigilError('DNS_TIMEOUT', 'timeout'));
          if (name !== name.toLowerCase()) return Promise.resolve(resp([], { rcode: 'NXDOMAIN' }));
          return Promise.resolve(resp(name === 'example.com' ? [LE] : []));
        },
      }),
    });
    expect(data.zone).toBe('example.com');
    expect(data.nameservers.map((n) => n.name)).toEqual(['ns1.example.com', 'ns2.example.com']);
    expect(data.path.map((p) => [p.name, p.inZone])).toEqual([
      ['www.example.com', true],
      ['example.com', true],
      ['com', false],
    ]);
    expect(data.path[0]?.cnameTarget).toBe('cdn.other.example');
    expect(asked).toContain('192.0.2.1 WWW.EXAMPLE.COM rd=false');
    expect(asked.filter((a) => a.includes(' com '))).toEqual([]);
    expect(data.hasDs).toBe(false);
    const ids = auditFindings(data).map((f) => f.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'ns-timeout',
        'ns-case-mishandled',
        'cname-external',
        'dnssec-unsigned',
        'no-accounturi',
      ]),
    );
  });

  it('randomCase always changes a name with letters and keeps it equal ignoring case', () => {
    for (let i = 0; i < 50; i++) {
      const m = randomCase('a.example.com');
      expect(m).not.toBe('a.example.com');
      expect(m.toLowerCase()).toBe('a.example.com');
    }
  });

  // Issue 12: an unreachable resolver made the audit print grade A after 24 s.
  const okDirect = (): DnsClient => ({
    query: (name: string) => Promise.resolve(resp(name === 'example.com' ? [LE] : [])),
  });
  it('an unreachable resolver: one query, then stop, with the failure recorded (not an empty audit)', async () => {
    const asked: string[] = [];
    const dead: DnsClient = {
      query(name: string, type: string): Promise<DnsResponse> {
        asked.push(`${name}/${type}`);
        return Promise.reject(
          new CertvigilError('DNS_TIMEOUT', `${name}/${type}: 2 attempt(s) failed: no answer`),
        );
      },
    };
    const data = await collectAudit('www.example.com', {
      resolver: dead,
      resolverLabel: '127.0.0.1:5599',
      directClient: okDirect,
    });
    expect(asked).toEqual(['www.example.com/SOA']);
    expect(data.zone).toBeNull();
    expect(data.failures).toEqual([
      {
        name: 'www.example.com',
        type: 'SOA',
        server: '127.0.0.1:5599',
        error: '2 attempt(s) failed: no answer',
      },
    ]);
    expect(data.observations).toEqual([]);
  });

  it('NXDOMAIN for the domain itself: exists false, zone still named, nothing else asked', async () => {
    const asked: string[] = [];
    const r: DnsClient = {
      query(name: string, type: string, options?: QueryOptions): Promise<DnsResponse> {
        asked.push(`${name}/${type}`);
        if (name === 'typo.example.com') return Promise.resolve(resp([], { rcode: 'NXDOMAIN' }));
        return resolver.query(name, type, options);
      },
    };
    const data = await collectAudit('typo.example.com', { resolver: r, directClient: okDirect });
    expect(data.exists).toBe(false);
    expect(data.zone).toBe('example.com');
    expect(asked).toEqual(['typo.example.com/SOA', 'example.com/SOA']);
  });

  it.each<[string, (name: string, type: string) => DnsResponse | Error | null, string]>([
    ['NS', (n, t) => (t === 'NS' ? new CertvigilError('DNS_TIMEOUT', 'timeout') : null), 'example.com/NS'],
    ['NS with no records', (n, t) => (t === 'NS' ? resp([]) : null), 'example.com/NS'],
    [
      'AAAA of a name server',
      (n, t) => (t === 'AAAA' ? resp([], { rcode: 'SERVFAIL' }) : null),
      'ns1.example.com/AAAA',
    ],
    ['DS', (n, t) => (t === 'DS' ? resp([], { rcode: 'SERVFAIL' }) : null), 'example.com/DS'],
    [
      'DS (no answer)',
      (n, t) => (t === 'DS' ? new CertvigilError('DNS_NETWORK', 'refused') : null),
      'example.com/DS',
    ],
  ])('a failed %s lookup is recorded, not read as an empty answer', async (_what, override, key) => {
    const r: DnsClient = {
      query(name: string, type: string, options?: QueryOptions): Promise<DnsResponse> {
        const o = override(name, type);
        if (o instanceof Error) return Promise.reject(o);
        if (o !== null) return Promise.resolve(o);
        return resolver.query(name, type, options);
      },
    };
    const data = await collectAudit('example.com', { resolver: r, directClient: okDirect });
    expect(data.failures.map((f) => `${f.name}/${f.type}`)).toContain(key);
    expect(auditFindings(data).find((f) => f.id === 'lookup-failed')?.severity).toBe('error');
  });
});
