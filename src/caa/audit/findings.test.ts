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

  it('a failed lookup is not reported as no-caa', () => {
    const d = data({ path: [entry('example.com', [], { rcode: 'SERVFAIL' })], dnssec: 'bogus' });
    expect(ids(d)).toEqual(['dnssec-bogus']);
  });

  it('no-caa fix gives zone-file lines', () => {
    const f = auditFindings(withRecords([])).find((x) => x.id === 'no-caa');
    expect(f?.fix.split('\n')).toContain('example.com. IN CAA 0 issuewild ";"');
  });

  it('grades', () => {
    const f = (severity: 'info' | 'warning' | 'critical') => ({
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
  });
});
