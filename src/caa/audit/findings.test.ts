import { describe, expect, it } from 'vitest';
import { auditFindings, buildReport, gradeFor } from './findings.js';
import type {
  AuditData,
  AuditOptions,
  FindingId,
  PathEntry,
  ServerAnswer,
  ServerObservation,
} from './types.js';
import type { CaaRecord } from '../property.js';

const caa = (tag: string, value: string, flags = 0): CaaRecord => ({ flags, tag, value });
const GOOD: CaaRecord[] = [
  caa(
    'issue',
    'letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1; validationmethods=dns-01',
  ),
  caa('issuewild', ';'),
  caa('iodef', 'mailto:security@example.com'),
];

const entry = (name: string, records: CaaRecord[] = [], extra: Partial<PathEntry> = {}): PathEntry => ({
  name,
  inZone: true,
  rcode: 'NOERROR',
  error: null,
  records,
  cnameTarget: null,
  validation: 'authenticated',
  ...extra,
});
const ans = (records: CaaRecord[], extra: Partial<ServerAnswer> = {}): ServerAnswer => ({
  rcode: 'NOERROR',
  timeout: false,
  error: null,
  authoritative: true,
  records,
  ...extra,
});
const obs = (address: string, lower: ServerAnswer, mixed: ServerAnswer = lower): ServerObservation => ({
  nsName: `ns-${address}.example.com`,
  address,
  name: 'example.com',
  lower,
  mixedQname: 'ExAmple.COM',
  mixed,
});

function data(over: Partial<AuditData> = {}): AuditData {
  return {
    domain: 'example.com',
    exists: true,
    failures: [],
    zone: 'example.com',
    nameservers: [],
    path: [entry('example.com', GOOD), entry('com', [], { inZone: false })],
    observations: [obs('192.0.2.1', ans(GOOD)), obs('192.0.2.2', ans(GOOD))],
    dnssec: 'secure',
    hasDs: true,
    ...over,
  };
}
const withRecords = (records: CaaRecord[], over: Partial<AuditData> = {}): AuditData =>
  data({ path: [entry('example.com', records), entry('com', [], { inZone: false })], ...over });

const ids = (d: AuditData, o: AuditOptions = {}): FindingId[] => auditFindings(d, o).map((f) => f.id);

describe('caa audit findings', () => {
  it('a strict, signed, consistent setup has no findings and grade A', () => {
    const report = buildReport(data(), {
      knownIssuers: new Set(['letsencrypt.org']),
      seenIssuers: ['letsencrypt.org'],
    });
    expect(report.findings).toEqual([]);
    expect(report.grade).toBe('A');
  });

  type Case = [FindingId, AuditData, AuditOptions, AuditData, AuditOptions];
  const cases: Case[] = [
    ['no-caa', withRecords([]), {}, data(), {}],
    ['no-accounturi', withRecords([caa('issue', 'letsencrypt.org'), caa('issuewild', ';')]), {}, data(), {}],
    [
      'no-validationmethods',
      withRecords([caa('issue', 'letsencrypt.org; accounturi=https://a/1')]),
      {},
      data(),
      {},
    ],
    [
      'http-01-allowed',
      withRecords([caa('issue', 'letsencrypt.org; accounturi=https://a/1')]),
      { acmeMethod: 'dns-01' },
      withRecords([caa('issue', 'letsencrypt.org; accounturi=https://a/1')]),
      {},
    ],
    [
      'wildcard-open',
      withRecords([GOOD[0] as CaaRecord]),
      {},
      withRecords([GOOD[0] as CaaRecord]),
      { usesWildcards: true },
    ],
    ['no-iodef', withRecords([GOOD[0] as CaaRecord]), {}, data(), {}],
    ['iodef-bad-scheme', withRecords([...GOOD, caa('iodef', 'ftp://x.example')]), {}, data(), {}],
    [
      'iodef-malformed',
      withRecords([...GOOD, caa('iodef', 'mailto:not an address')]),
      {},
      withRecords([...GOOD, caa('iodef', 'https://iodef.example.com/rid')]),
      {},
    ],
    [
      'ns-error',
      data({
        observations: [obs('192.0.2.1', ans(GOOD)), obs('192.0.2.2', ans([], { rcode: 'SERVFAIL' }))],
      }),
      {},
      data(),
      {},
    ],
    [
      'ns-no-address',
      data({
        nameservers: [
          { name: 'ns1.example.com', addresses: ['192.0.2.1'] },
          { name: 'ns2.example.net', addresses: [] },
        ],
      }),
      {},
      data({ nameservers: [{ name: 'ns1.example.com', addresses: ['192.0.2.1'] }] }),
      {},
    ],
    [
      'lookup-failed',
      data({ failures: [{ name: 'example.com', type: 'DS', server: '127.0.0.1:53', error: 'SERVFAIL' }] }),
      {},
      data(),
      {},
    ],
    ['domain-not-found', data({ exists: false, path: [], observations: [] }), {}, data(), {}],
    ['malformed-record', withRecords([caa('issue', 'letsencrypt.org; accounturi')]), {}, data(), {}],
    [
      'critical-unknown-tag',
      withRecords([...GOOD, caa('tbs', 'x', 128)]),
      {},
      withRecords([...GOOD, caa('tbs', 'x', 0)]),
      {},
    ],
    [
      'ns-disagree',
      data({
        observations: [obs('192.0.2.1', ans(GOOD)), obs('192.0.2.2', ans([caa('issue', 'evil.example')]))],
      }),
      {},
      data(),
      {},
    ],
    [
      'ns-timeout',
      data({
        observations: [obs('192.0.2.1', ans([], { rcode: null, timeout: true, error: 'DNS_TIMEOUT' }))],
      }),
      {},
      data(),
      {},
    ],
    [
      'ns-refused',
      data({ observations: [obs('192.0.2.1', ans([], { rcode: 'REFUSED', authoritative: false }))] }),
      {},
      data(),
      {},
    ],
    [
      'ns-case-mishandled',
      data({ observations: [obs('192.0.2.1', ans(GOOD), ans([], { rcode: 'NXDOMAIN' }))] }),
      {},
      data(),
      {},
    ],
    ['dnssec-unsigned', data({ dnssec: 'insecure', hasDs: false }), {}, data(), {}],
    ['dnssec-bogus', data({ dnssec: 'bogus', hasDs: true }), {}, data(), {}],
    [
      'cname-external',
      data({
        path: [
          entry('example.com', GOOD, { cnameTarget: 'cdn.provider.example' }),
          entry('com', [], { inZone: false }),
        ],
      }),
      {},
      data({
        path: [
          entry('example.com', GOOD, { cnameTarget: 'www2.example.com' }),
          entry('com', [], { inZone: false }),
        ],
      }),
      {},
    ],
    [
      'subdomain-weaker',
      data({
        domain: 'www.example.com',
        path: [
          entry('www.example.com', [caa('issue', 'letsencrypt.org'), caa('issuewild', ';')]),
          entry('example.com', GOOD),
        ],
      }),
      {},
      data({ domain: 'www.example.com', path: [entry('www.example.com', GOOD), entry('example.com', GOOD)] }),
      {},
    ],
    ['unused-ca', data(), { seenIssuers: ['digicert.com'] }, data(), {}],
    [
      'unknown-issuer',
      data(),
      { knownIssuers: new Set(['digicert.com']) },
      data(),
      { knownIssuers: new Set(['letsencrypt.org']) },
    ],
  ];
  it.each(cases)(
    '%s: present, and absent in the counter-example',
    (id, present, presentOpts, absent, absentOpts) => {
      const got = auditFindings(present, presentOpts);
      const f = got.find((x) => x.id === id);
      expect(f, JSON.stringify(got)).toBeDefined();
      expect(f?.message.length).toBeGreaterThan(20);
      expect(f?.fix.length).toBeGreaterThan(5);
      expect(ids(absent, absentOpts)).not.toContain(id);
    },
  );

  it('an "issue letsencrypt.org" only policy explains the jabber.ru bypass', () => {
    const f = auditFindings(withRecords([caa('issue', 'letsencrypt.org')])).find(
      (x) => x.id === 'no-accounturi',
    );
    expect(f?.severity).toBe('warning');
    expect(f?.message).toMatch(/jabber\.ru 2023/);
    expect(f?.message).toMatch(/does not stop/);
    expect(f?.fix).toMatch(/^example\.com\. IN CAA 0 issue "letsencrypt\.org; accounturi=/);
  });

  it('http-01-allowed without --acme-method only when validationmethods lists http-01 (info)', () => {
    const f = auditFindings(
      withRecords([caa('issue', 'letsencrypt.org; accounturi=https://a/1; validationmethods=http-01')]),
    ).find((x) => x.id === 'http-01-allowed');
    expect(f?.severity).toBe('info');
  });

  it('a DNSSEC-bogus answer is reported as dnssec-bogus only, not as no-caa or a lookup failure', () => {
    const d = data({
      path: [entry('example.com', [], { rcode: 'SERVFAIL', validation: 'failed' })],
      dnssec: 'bogus',
    });
    expect(ids(d)).toEqual(['dnssec-bogus']);
    expect(buildReport(d).grade).toBe('F');
  });

  // Issue 12: with an unreachable resolver the audit printed grade A, no findings, exit 0.
  const SOA_TIMEOUT = {
    name: 'example.com',
    type: 'SOA',
    server: '127.0.0.1:5599',
    error: '2 attempt(s) failed: no answer from 127.0.0.1:5599 over UDP within 3000 ms',
  };
  it.each<[string, AuditData, FindingId[]]>([
    [
      'nothing could be asked (zone cut lookup failed)',
      data({
        zone: null,
        failures: [SOA_TIMEOUT],
        nameservers: [],
        path: [],
        observations: [],
        dnssec: 'unknown',
        hasDs: null,
      }),
      ['lookup-failed'],
    ],
    [
      'no zone apex found although every answer was NOERROR',
      data({ zone: null, nameservers: [], path: [], observations: [], dnssec: 'unknown', hasDs: null }),
      ['lookup-failed'],
    ],
    [
      'the CAA lookup at the domain timed out',
      data({
        path: [
          entry('example.com', [], { rcode: null, error: 'DNS_TIMEOUT', validation: null }),
          entry('com', [], { inZone: false }),
        ],
        dnssec: 'unknown',
      }),
      ['lookup-failed'],
    ],
    [
      'the CAA lookup at the domain got SERVFAIL without a DNSSEC failure',
      withRecords([], {
        path: [entry('example.com', [], { rcode: 'SERVFAIL', validation: 'unauthenticated' })],
      }),
      ['lookup-failed'],
    ],
    [
      'the NS lookup failed, so no server was asked',
      data({
        failures: [{ name: 'example.com', type: 'NS', server: '127.0.0.1:53', error: 'SERVFAIL' }],
        observations: [],
      }),
      ['lookup-failed'],
    ],
    [
      'the name servers have no address at all',
      data({ nameservers: [{ name: 'ns1.example.net', addresses: [] }], observations: [] }),
      ['ns-no-address', 'lookup-failed'],
    ],
    [
      'no name server answered',
      data({
        observations: [
          obs('192.0.2.1', ans([], { rcode: null, timeout: true, error: 'DNS_TIMEOUT' })),
          obs('192.0.2.2', ans([], { rcode: null, timeout: true, error: 'DNS_TIMEOUT' })),
        ],
      }),
      ['ns-timeout', 'lookup-failed'],
    ],
  ])('%s → grade error', (_why, d, expected) => {
    const report = buildReport(d);
    for (const id of expected) expect(report.findings.map((f) => f.id)).toContain(id);
    expect(report.findings.filter((f) => f.id !== 'no-caa')).toEqual(report.findings);
    expect(report.grade).toBe('error');
    const failed = report.findings.find((f) => f.id === 'lookup-failed');
    expect(failed?.severity).toBe('error');
  });

  it('lookup-failed names what could not be asked: name, type and server', () => {
    const f = auditFindings(
      data({ zone: null, failures: [SOA_TIMEOUT], nameservers: [], path: [], observations: [] }),
    );
    expect(f).toHaveLength(1);
    expect(f[0]?.name).toBe('example.com/SOA');
    expect(f[0]?.message).toMatch(/example\.com SOA through 127\.0\.0\.1:5599: 2 attempt\(s\) failed/);
  });

  it('a domain that does not exist is domain-not-found (error), never no-caa / grade B', () => {
    const r = buildReport(
      data({ exists: false, zone: 'example.com', domain: 'typo.example.com', path: [], observations: [] }),
    );
    expect(r.findings.map((f) => [f.id, f.severity])).toEqual([['domain-not-found', 'error']]);
    expect(r.grade).toBe('error');
  });

  it('a failed lookup above the relevant RRset keeps the policy findings but hides subdomain-weaker', () => {
    const d = data({
      domain: 'www.example.com',
      path: [
        entry('www.example.com', [caa('issue', 'letsencrypt.org'), caa('issuewild', ';')]),
        entry('example.com', [], { rcode: 'SERVFAIL', validation: 'unauthenticated' }),
      ],
    });
    const got = ids(d);
    expect(got).toContain('lookup-failed');
    expect(got).toContain('no-accounturi');
    expect(got).not.toContain('subdomain-weaker');
  });

  it('a mixed-case query that failed is ns-timeout/ns-error, not ns-case-mishandled', () => {
    const timedOut = data({
      observations: [
        obs('192.0.2.1', ans(GOOD), ans([], { rcode: null, timeout: true, error: 'DNS_TIMEOUT' })),
      ],
    });
    expect(ids(timedOut)).toContain('ns-timeout');
    expect(ids(timedOut)).not.toContain('ns-case-mishandled');
    const broken = data({
      observations: [obs('192.0.2.1', ans(GOOD), ans([], { rcode: null, error: 'DNS_NETWORK' }))],
    });
    expect(ids(broken)).toContain('ns-error');
    expect(ids(broken)).not.toContain('ns-case-mishandled');
  });

  it('no-caa fix gives zone-file lines', () => {
    const f = auditFindings(withRecords([])).find((x) => x.id === 'no-caa');
    expect(f?.fix.split('\n')).toContain('example.com. IN CAA 0 issuewild ";"');
  });

  it('grades', () => {
    const f = (severity: 'info' | 'warning' | 'critical' | 'error') => ({
      id: 'no-caa' as const,
      severity,
      name: '',
      message: '',
      fix: '',
    });
    expect(gradeFor([])).toBe('A');
    expect(gradeFor([f('info')])).toBe('A');
    expect(gradeFor([f('warning')])).toBe('B');
    expect(gradeFor([f('warning'), f('warning')])).toBe('C');
    expect(gradeFor([f('warning'), f('warning'), f('warning')])).toBe('D');
    expect(gradeFor([f('critical')])).toBe('F');
    expect(gradeFor([f('critical'), f('error')])).toBe('error');
    expect(gradeFor([f('info'), f('error')])).toBe('error');
  });
});
