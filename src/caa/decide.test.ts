import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import type { DecideInput } from './decide.js';
import type { CaaRecord } from './property.js';

const LE = 'letsencrypt.org';
const ACCT = 'https://acme-v02.api.letsencrypt.org/acme/acct/1234567';

function rec(text: string): CaaRecord {
  const m = /^(\d+) (\S+) "(.*)"$/.exec(text);
  if (!m) throw new Error(`bad test record ${text}`);
  return { flags: Number(m[1]), tag: m[2] as string, value: m[3] as string };
}

function input(records: string[], over: Partial<DecideInput> = {}): DecideInput {
  return {
    records: records.map(rec),
    wildcard: false,
    issuerDomains: [LE],
    accountUri: ACCT,
    validationMethod: 'http-01',
    ...over,
  };
}

describe('decide (RFC 8659 §4, RFC 8657)', () => {
  it.each([
    // [records, overrides, decision, reason]
    [[], {}, 'allow', 'no-caa-records'],
    [['0 iodef "mailto:x@example.com"'], {}, 'allow', 'no-issue-property'],
    [['0 unknownprop "x"'], {}, 'allow', 'no-issue-property'],
    [['0 issue "letsencrypt.org"'], {}, 'allow', 'authorized'],
    [['0 issue "LETSENCRYPT.ORG"'], {}, 'allow', 'authorized'],
    [['0 ISSUE "letsencrypt.org"'], {}, 'allow', 'authorized'],
    [['0 issue "other-ca.example"'], {}, 'deny', 'issuer-not-authorized'],
    [['0 issue ";"'], {}, 'deny', 'issuance-forbidden'],
    [['0 issue ""'], {}, 'deny', 'issuance-forbidden'],
    [['0 issue "letsencrypt.org"', '128 unknownprop "x"'], {}, 'deny', 'critical-unknown-property'],
    [['128 issue "letsencrypt.org"'], {}, 'allow', 'authorized'],
    [['130 unknownprop "x"'], {}, 'deny', 'critical-unknown-property'],
    [['128 tbs "x"', '0 issue "letsencrypt.org"'], {}, 'deny', 'critical-unknown-property'],
    [['0 issue "<script>"'], {}, 'deny', 'malformed-records'],
    [['0 issue "letsencrypt.org; accounturi"', '0 issue "letsencrypt.org"'], {}, 'allow', 'authorized'],
    [
      ['0 issue "letsencrypt.org; accounturi"', '0 issue "other.example"'],
      {},
      'deny',
      'issuer-not-authorized',
    ],
    [['0 issue ";"', '0 issue "bad value!"'], {}, 'deny', 'issuance-forbidden'],
    // issuewild (RFC 8659 §4.3)
    [['0 issue "letsencrypt.org"'], { wildcard: true }, 'allow', 'authorized'],
    [['0 issue "letsencrypt.org"', '0 issuewild ";"'], { wildcard: true }, 'deny', 'issuance-forbidden'],
    [
      ['0 issue "letsencrypt.org"', '0 issuewild "other.example"'],
      { wildcard: true },
      'deny',
      'issuer-not-authorized',
    ],
    [['0 issue "other.example"', '0 issuewild "letsencrypt.org"'], { wildcard: true }, 'allow', 'authorized'],
    [['0 issue "other.example"', '0 issuewild "letsencrypt.org"'], {}, 'deny', 'issuer-not-authorized'],
    [['0 issuewild "other.example"'], {}, 'allow', 'no-issue-property'],
    [['0 issuewild "other.example"'], { wildcard: true }, 'deny', 'issuer-not-authorized'],
    [['0 IssueWild "letsencrypt.org"', '0 issue ";"'], { wildcard: true }, 'allow', 'authorized'],
    // RFC 8657 accounturi
    [[`0 issue "letsencrypt.org; accounturi=${ACCT}"`], {}, 'allow', 'authorized'],
    [
      [`0 issue "letsencrypt.org; accounturi=${ACCT}"`],
      { accountUri: `${ACCT}0` },
      'deny',
      'account-uri-mismatch',
    ],
    [[`0 issue "letsencrypt.org; accounturi=${ACCT}"`], { accountUri: null }, 'deny', 'account-uri-missing'],
    [[`0 issue "letsencrypt.org; accounturi=${ACCT.toUpperCase()}"`], {}, 'deny', 'account-uri-mismatch'],
    [[`0 issue "letsencrypt.org; accounturi=${ACCT}/"`], {}, 'deny', 'account-uri-mismatch'],
    // RFC 8657 validationmethods
    [
      ['0 issue "letsencrypt.org; validationmethods=dns-01"'],
      { validationMethod: 'dns-01' },
      'allow',
      'authorized',
    ],
    [['0 issue "letsencrypt.org; validationmethods=dns-01"'], {}, 'deny', 'validation-method-not-allowed'],
    [
      ['0 issue "letsencrypt.org; validationmethods=dns-01"'],
      { validationMethod: null },
      'deny',
      'validation-method-missing',
    ],
    [['0 issue "letsencrypt.org; validationmethods=dns-01,http-01"'], {}, 'allow', 'authorized'],
    [
      [`0 issue "letsencrypt.org; accounturi=${ACCT}; validationmethods=dns-01"`],
      {},
      'deny',
      'validation-method-not-allowed',
    ],
    [
      [
        `0 issue "letsencrypt.org; accounturi=${ACCT}0; validationmethods=http-01"`,
        '0 issue "letsencrypt.org; validationmethods=dns-01"',
      ],
      {},
      'deny',
      'validation-method-not-allowed',
    ],
    [['0 issue "letsencrypt.org; foo=bar"'], {}, 'allow', 'authorized'],
    // several issuer domains for one CA
    [['0 issue "le.example"'], { issuerDomains: [LE, 'le.example'] }, 'allow', 'authorized'],
  ] as const)('%j %j → %s %s', (records, over, decision, reason) => {
    const v = decide(input([...records], over as Partial<DecideInput>));
    expect({ decision: v.decision, reason: v.reason }).toEqual({ decision, reason });
  });

  it('returns every authorising record', () => {
    const v = decide(
      input(['0 issue "letsencrypt.org"', '0 issue "letsencrypt.org; foo=1"', '0 issue "x.example"']),
    );
    expect(v.authorizedBy.map((r) => r.value)).toEqual(['letsencrypt.org', 'letsencrypt.org; foo=1']);
  });

  it('reports the malformed reason on the record view', () => {
    const v = decide(input(['0 issue "letsencrypt.org; accounturi"']));
    expect(v.decision).toBe('deny');
    if (v.decision === 'deny') expect(v.offending[0]?.malformed).toMatch(/no "="/);
  });
});
