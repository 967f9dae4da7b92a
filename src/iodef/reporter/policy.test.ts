import { describe, expect, it } from 'vitest';
import { denial } from './caa-result.fixture.js';
import {
  DEFAULT_REPORTER_POLICY,
  decideReports,
  nextAttemptAt,
  registeredDomainOf,
  reporterPolicy,
} from './policy.js';
import type { ReporterPolicy, SkipReason } from './policy.js';

describe('DEFAULT_REPORTER_POLICY', () => {
  it('is the documented safe default', () => {
    expect(DEFAULT_REPORTER_POLICY).toMatchObject({
      onlyAfterValidation: false,
      includeAccountUri: false,
      mailtoSameRegisteredDomainOnly: true,
      dedupWindowSeconds: 86_400,
      perRecipientPerDay: 10,
      perRegisteredDomainPerDay: 50,
      maxDocumentBytes: 65_536,
      maxAttempts: 6,
      optOut: [],
      allowPrivateAddresses: false,
      allowHttp: false,
    });
    expect(Object.isFrozen(DEFAULT_REPORTER_POLICY)).toBe(true);
  });
});

describe('decideReports', () => {
  const ok = { validationSucceeded: false };

  it('reports to usable targets with their registered domain', () => {
    const d = decideReports(
      denial('www.shop.example.co.uk', [
        ['iodef', 'mailto:caa@example.co.uk'],
        ['iodef', 'https://reports.thirdparty.example/iodef'],
      ]),
      ok,
    );
    expect(d.skipped).toEqual([]);
    expect(d.report.map((r) => [r.target.recipient, r.registeredDomain])).toEqual([
      ['mailto:caa@example.co.uk', 'example.co.uk'],
      ['https://reports.thirdparty.example/iodef', 'thirdparty.example'],
    ]);
  });

  // Every reason a target is skipped.
  const cases: [string, [string, string][], Partial<ReporterPolicy>, SkipReason, object?][] = [
    ['unsupported scheme', [['iodef', 'ftp://example.com/']], {}, 'unsupported-scheme'],
    ['malformed URL', [['iodef', 'not a url']], {}, 'malformed-url'],
    ['no address', [['iodef', 'mailto:']], {}, 'mailto-no-address'],
    ['several addresses', [['iodef', 'mailto:a@example.com,b@example.com']], {}, 'mailto-multiple-addresses'],
    ['bad address', [['iodef', 'mailto:nobody']], {}, 'mailto-bad-address'],
    ['credentials', [['iodef', 'https://u:p@example.com/']], {}, 'url-credentials'],
    [
      'mail to another domain (anti-spam)',
      [['iodef', 'mailto:victim@other.example']],
      {},
      'mailto-outside-registered-domain',
    ],
    [
      'mail to a public-suffix sibling',
      [['iodef', 'mailto:x@evil.co.uk']],
      {},
      'mailto-outside-registered-domain',
    ],
    // Issue 12: private PSL suffixes hand names to unrelated owners.
    [
      'mail to a private-suffix sibling (eu.org)',
      [['iodef', 'mailto:postmaster@victim.eu.org']],
      {},
      'mailto-outside-registered-domain',
    ],
    ['plain http', [['iodef', 'http://iodef.example.com/']], {}, 'http-not-allowed'],
    ['NAT64 local-use literal', [['iodef', 'https://[64:ff9b:1::a00:1]/']], {}, 'private-address'],
    ['6to4 of a private address', [['iodef', 'https://[2002:a00:1::1]/']], {}, 'private-address'],
    ['documentation 3fff::/20', [['iodef', 'https://[3fff::1]/']], {}, 'private-address'],
    ['loopback literal', [['iodef', 'https://127.0.0.1/']], {}, 'private-address'],
    ['IPv6 loopback literal', [['iodef', 'https://[::1]/']], {}, 'private-address'],
    ['RFC 1918 literal', [['iodef', 'https://10.0.0.1/']], {}, 'private-address'],
    ['metadata service', [['iodef', 'http://169.254.169.254/']], { allowHttp: true }, 'private-address'],
    ['IPv4-mapped loopback', [['iodef', 'https://[::ffff:127.0.0.1]/']], {}, 'private-address'],
    [
      'opted-out address',
      [['iodef', 'mailto:caa@example.com']],
      { optOut: ['CAA@example.com'] },
      'opted-out',
    ],
    [
      'opted-out domain',
      [['iodef', 'https://r.iodef.example.net/x']],
      { optOut: ['iodef.example.net'] },
      'opted-out',
    ],
    [
      'opted-out URL',
      [['iodef', 'https://r.example.net/x']],
      { optOut: ['https://r.example.net/x'] },
      'opted-out',
    ],
  ];
  it.each(cases)('skips: %s', (_what, records, overrides, reason) => {
    const d = decideReports(denial('www.example.com', records), ok, reporterPolicy(overrides));
    expect(d.report).toEqual([]);
    expect(d.skipped.map((s) => s.reason)).toEqual([reason]);
    expect(d.skipped[0]?.detail).toMatch(/\S/);
  });

  it('skips a recipient named twice once', () => {
    const d = decideReports(
      denial('example.com', [
        ['iodef', 'mailto:sec@example.com'],
        ['iodef', 'mailto:sec@EXAMPLE.com'],
      ]),
      ok,
    );
    expect(d.report).toHaveLength(1);
    expect(d.skipped.map((s) => s.reason)).toEqual(['duplicate-target']);
  });

  it('skips everything when CAA did not deny', () => {
    const d = decideReports(
      denial('example.com', [['iodef', 'mailto:sec@example.com']], {
        decision: 'allow',
        reason: 'authorized',
      }),
      ok,
    );
    expect(d.report).toEqual([]);
    expect(d.skipped.map((s) => s.reason)).toEqual(['not-a-denial']);
  });

  it('skips everything before validation in onlyAfterValidation mode, and reports after', () => {
    const result = denial('example.com', [['iodef', 'mailto:sec@example.com']]);
    const policy = reporterPolicy({ onlyAfterValidation: true });
    expect(
      decideReports(result, { validationSucceeded: false }, policy).skipped.map((s) => s.reason),
    ).toEqual(['not-validated']);
    expect(decideReports(result, { validationSucceeded: true }, policy).report).toHaveLength(1);
  });

  it.each([
    ['attacker.eu.org', 'mailto:postmaster@victim.eu.org'],
    ['www.attacker.eu.org', 'mailto:abuse@eu.org'],
    ['attacker.github.io', 'mailto:security@victim.github.io'],
  ])('a zone under a private suffix (%s) cannot make the CA mail %s', (name, target) => {
    const d = decideReports(denial(name, [['iodef', target]]), ok);
    expect(d.report).toEqual([]);
    expect(d.skipped.map((s) => s.reason)).toEqual(['mailto-outside-registered-domain']);
  });

  it('still mails within the same private-suffix registration', () => {
    const d = decideReports(denial('www.victim.eu.org', [['iodef', 'mailto:sec@victim.eu.org']]), ok);
    expect(d.report.map((r) => r.registeredDomain)).toEqual(['victim.eu.org']);
  });

  it('lets mail go to the alias target’s domain, and anywhere when the rule is off', () => {
    const aliased = denial('www.example.com', [['iodef', 'mailto:noc@cdn.example.net']], {
      aliasTarget: 'www.example.com.cdn.example.net',
    });
    expect(decideReports(aliased, ok).report).toHaveLength(1);
    const other = denial('www.example.com', [['iodef', 'mailto:noc@elsewhere.example']]);
    expect(decideReports(other, ok).report).toHaveLength(0);
    expect(
      decideReports(other, ok, reporterPolicy({ mailtoSameRegisteredDomainOnly: false })).report,
    ).toHaveLength(1);
  });

  it('allows private literals and http only when told to', () => {
    const d = decideReports(
      denial('example.com', [['iodef', 'http://127.0.0.1:8080/']]),
      ok,
      reporterPolicy({ allowHttp: true, allowPrivateAddresses: true }),
    );
    expect(d.report.map((r) => r.registeredDomain)).toEqual(['127.0.0.1']);
  });
});

describe('registeredDomainOf', () => {
  it.each([
    ['a.b.example.co.uk', 'example.co.uk'],
    ['example.com', 'example.com'],
    ['10.0.0.1', '10.0.0.1'],
    ['co.uk', 'co.uk'],
    ['attacker.eu.org', 'attacker.eu.org'],
    ['www.victim.eu.org', 'victim.eu.org'],
    ['a.github.io', 'a.github.io'],
    ['eu.org', 'eu.org'],
  ])('%s → %s', (host, domain) => expect(registeredDomainOf(host)).toBe(domain));
});

describe('nextAttemptAt', () => {
  const policy = reporterPolicy({ backoffBaseSeconds: 60, backoffMaxSeconds: 3600, maxAttempts: 4 });
  const now = new Date('2026-01-01T00:00:00Z');
  it('doubles with jitter in [0.5, 1.5), capped, and gives up at maxAttempts', () => {
    const at = (n: number, r: number): number =>
      (Date.parse(nextAttemptAt(n, policy, now, () => r) ?? '') - now.getTime()) / 1000;
    expect(at(1, 0.5)).toBe(60);
    expect(at(2, 0.5)).toBe(120);
    expect(at(3, 0.5)).toBe(240);
    expect(at(1, 0)).toBe(30);
    expect(at(1, 0.999)).toBeCloseTo(89.94, 1);
    expect(nextAttemptAt(4, policy, now)).toBeNull();
    const capped = reporterPolicy({ backoffBaseSeconds: 60, backoffMaxSeconds: 100, maxAttempts: 20 });
    expect((Date.parse(nextAttemptAt(10, capped, now, () => 0.5) ?? '') - now.getTime()) / 1000).toBe(100);
  });
});
