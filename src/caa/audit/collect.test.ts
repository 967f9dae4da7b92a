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
});
