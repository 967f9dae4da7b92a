import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestCa } from '../../test/fixtures/ct-log/index.js';
import type { IssuedCertificate } from '../../test/fixtures/ct-log/index.js';
import type { DnsClient, DnsRecord, DnsResponse } from '../dns/index.js';
import { CertvigilError } from '../errors.js';
import { checkDane, interpretTlsaResponse, tlsaBaseDomain, tlsaOwner } from './dane-lookup.js';
import type { DaneAddressResult } from './dane-lookup.js';

const NAME = 'mx.example.test';
const OWNER = `_25._tcp.${NAME}`;
const LIMITS = { timeoutMs: 5000 };
let ca: TestCa;
let leaf: IssuedCertificate;
let spkiSha256: Uint8Array;

beforeAll(async () => {
  ca = await TestCa.create({ organization: 'DANE Lookup CA' });
  leaf = ca.issue({ dnsNames: [NAME] });
  spkiSha256 = new Uint8Array(createHash('sha256').update(leaf.spki).digest());
});

function tlsa(data: Uint8Array, usage = 3): DnsRecord {
  return {
    name: OWNER,
    rawName: OWNER,
    type: 'TLSA',
    ttl: 60,
    data: { type: 'TLSA', usage, selector: 1, matchingType: 1, data },
  };
}

function response(over: Partial<DnsResponse> & { ad?: boolean } = {}): DnsResponse {
  const { ad = true, ...rest } = over;
  return {
    id: 1,
    rcode: 'NOERROR',
    flags: {
      authoritative: false,
      truncated: false,
      recursionDesired: true,
      recursionAvailable: true,
      authenticData: ad,
      checkingDisabled: false,
    },
    question: { name: OWNER, type: 'TLSA' },
    answers: [],
    authorities: [],
    additionals: [],
    extendedErrors: [],
    validation: ad ? 'authenticated' : 'unauthenticated',
    ednsUdpSize: 1232,
    server: { host: '127.0.0.1', port: 53 },
    transport: 'udp',
    elapsedMs: 1,
    ...rest,
  };
}

class FakeResolver implements DnsClient {
  queries: { name: string; type: string; dnssecOk: boolean | undefined }[] = [];
  constructor(private readonly answer: () => DnsResponse) {}
  query(name: string, type: string, options: { dnssecOk?: boolean } = {}): Promise<DnsResponse> {
    this.queries.push({ name, type, dnssecOk: options.dnssecOk });
    return Promise.resolve(this.answer());
  }
}

describe('tlsaBaseDomain / tlsaOwner (RFC 6698 §3)', () => {
  it.each([
    [{ host: 'WWW.Example.TEST.', sni: undefined }, 'www.example.test'],
    [{ host: 'www.example.test', sni: 'other.example.test' }, 'www.example.test'],
    [{ host: '127.0.0.1', sni: 'mx.example.test' }, 'mx.example.test'],
    [{ host: '::1', sni: undefined }, null],
  ])('%o → %s', (t, base) => {
    expect(tlsaBaseDomain({ ...t, port: 443, starttls: undefined })).toBe(base);
  });
  it('builds _PORT._tcp.NAME', () => expect(tlsaOwner('mx.example.test', 25)).toBe(OWNER));
});

describe('interpretTlsaResponse', () => {
  it('AD set: secure, with the TLSA records of the answer (after a CNAME the resolver followed)', () => {
    const cname: DnsRecord = {
      name: OWNER,
      rawName: OWNER,
      type: 'CNAME',
      ttl: 60,
      data: { type: 'CNAME', target: '_25._tcp.other.test' },
    };
    const l = interpretTlsaResponse(OWNER, response({ answers: [cname, tlsa(spkiSha256)] }));
    expect(l.kind).toBe('secure');
    if (l.kind === 'secure') expect(l.records).toHaveLength(1);
  });
  it('no AD: insecure, records kept only to be counted', () => {
    expect(interpretTlsaResponse(OWNER, response({ ad: false, answers: [tlsa(spkiSha256)] })).kind).toBe(
      'insecure',
    );
  });
  it('NXDOMAIN with AD: a secure denial', () => {
    expect(interpretTlsaResponse(OWNER, response({ rcode: 'NXDOMAIN' }))).toEqual({
      kind: 'secure',
      owner: OWNER,
      records: [],
    });
  });
  it('SERVFAIL: names the RFC 8914 EDE, sanitised', () => {
    const l = interpretTlsaResponse(
      OWNER,
      response({
        rcode: 'SERVFAIL',
        ad: false,
        extendedErrors: [{ code: 7, name: 'Signature Expired', text: 'expired\u001b[2J sig' }],
      }),
    );
    expect(l.kind).toBe('servfail');
    if (l.kind === 'servfail') {
      expect(l.detail).toMatch(/^EDE 7 Signature Expired: expired/);
      expect(l.detail).not.toContain('\u001b');
    }
  });
  it('REFUSED: the lookup failed', () => {
    expect(interpretTlsaResponse(OWNER, response({ rcode: 'REFUSED' })).kind).toBe('failed');
  });
});

describe('checkDane', () => {
  const target = { host: NAME, port: 25, sni: undefined, starttls: 'smtp' as const };
  const results = (): DaneAddressResult[] => [
    {
      address: '127.0.0.1',
      status: 'CRITICAL',
      findings: [
        { id: 'chain-untrusted', severity: 'critical', message: 'self-signed', address: '127.0.0.1' },
      ],
    },
    { address: '127.0.0.2', status: 'OK', findings: [] },
  ];
  const observed = () => [
    { address: '127.0.0.1', handshake: { chain: [leaf.der], authorized: false } },
    { address: '127.0.0.2', handshake: { chain: [leaf.der], authorized: false } },
  ];

  it('one DO query for the endpoint; a DANE-EE match over SMTP relaxes the PKIX finding and is OK', async () => {
    const resolver = new FakeResolver(() => response({ answers: [tlsa(spkiSha256)] }));
    const r = results();
    const added = await checkDane({ resolver }, target, observed(), r, LIMITS);
    expect(resolver.queries).toEqual([{ name: OWNER, type: 'TLSA', dnssecOk: true }]);
    expect(added.map((f) => [f.id, f.address])).toEqual([
      ['dane-match', '127.0.0.1'],
      ['dane-match', '127.0.0.2'],
    ]);
    expect(r.map((x) => x.status)).toEqual(['OK', 'OK']);
    expect(r[0]?.findings[0]?.severity).toBe('info');
  });

  it('a resolver that throws: one UNKNOWN dane-lookup-failed for the endpoint', async () => {
    const resolver: DnsClient = {
      query: () => Promise.reject(new CertvigilError('DNS_TIMEOUT', 'no answer \u0007')),
    };
    const added = await checkDane({ resolver }, target, observed(), results(), LIMITS);
    expect(added).toEqual([
      expect.objectContaining({ id: 'dane-lookup-failed', severity: 'unknown', address: '*' }),
    ]);
    expect(added[0]?.message).not.toContain('\u0007');
  });

  it('a resolver that never answers is cut off at -t: UNKNOWN dane-lookup-failed', async () => {
    const resolver: DnsClient = {
      query: (_n, _t, options) =>
        new Promise((_resolve, reject) =>
          options?.signal?.addEventListener('abort', () =>
            reject(new CertvigilError('DNS_TIMEOUT', 'query aborted')),
          ),
        ),
    };
    const started = Date.now();
    const added = await checkDane({ resolver }, target, observed(), results(), { timeoutMs: 50 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(added.map((f) => f.id)).toEqual(['dane-lookup-failed']);
  });

  it('no address completed a handshake: no query at all', async () => {
    const resolver = new FakeResolver(() => response());
    expect(await checkDane({ resolver }, target, [{ address: 'x', handshake: null }], [], LIMITS)).toEqual(
      [],
    );
    expect(resolver.queries).toEqual([]);
  });
});
