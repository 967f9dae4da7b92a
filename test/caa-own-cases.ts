/**
 * CAA cases of our own, beyond the shared vectors: each row says what it proves. The records are
 * appended to zone caa.test. (owner names relative to it) by the DNS test harness.
 */
export const OWN_RECORDS: string[] = [
  // IDN: the request comes in Unicode, the zone holds the A-label.
  'xn--bcher-kva CAA 0 issue "other-ca.example"',
  // A DNAME is followed for names below its owner (RFC 6672): x.dn → x.dn-target.
  'dn DNAME dn-target',
  'x.dn-target CAA 0 issue "other-ca.example"',
  // A wildcard DNS record synthesises CAA for names below it.
  '*.wc CAA 0 issue "other-ca.example"',
  // A CNAME loop must fail closed, not loop or allow.
  'loop1 CNAME loop2',
  'loop2 CNAME loop1',
  // issuewild bound to an account (RFC 8657 applies to issuewild too).
  'wildacct CAA 0 issue ";"',
  'wildacct CAA 0 issuewild "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1234567"',
  // Several issuers, mixed-case issuer domain, one with parameters.
  'multi CAA 0 issue "Other-CA.example"',
  'multi CAA 0 issue "LetsEncrypt.org; validationmethods=dns-01"',
  // Critical unknown tag on a parent governs its children.
  'critparent CAA 128 tbs "unknown"',
  'critparent CAA 0 issue "letsencrypt.org"',
  // A name with other records only (NODATA for CAA) climbs to the parent.
  'host.le2 A 192.0.2.1',
  'le2 CAA 0 issue "other-ca.example"',
  // A CNAME to a name that has no CAA but whose parent does: the target's parent is NOT searched.
  'cname-to-host-le2 CNAME host.le2',
  // A TTL we can check.
  'ttl300 300 CAA 0 issue "letsencrypt.org"',
];

export interface OwnCase {
  name: string;
  issuer?: string;
  accountUri?: string | null;
  method?: string;
  expect: 'allow' | 'deny' | 'error';
  reason: string;
  why: string;
}

const ACCT = 'https://acme-v02.api.letsencrypt.org/acme/acct/1234567';

export const OWN_CASES: OwnCase[] = [
  {
    name: 'bücher.caa.test',
    expect: 'deny',
    reason: 'issuer-not-authorized',
    why: 'Unicode name converted to its A-label',
  },
  {
    name: 'x.dn.caa.test',
    expect: 'deny',
    reason: 'issuer-not-authorized',
    why: 'DNAME followed below its owner',
  },
  {
    name: 'dn.caa.test',
    expect: 'allow',
    reason: 'no-caa-records',
    why: 'DNAME owner itself is not redirected',
  },
  {
    name: 'foo.wc.caa.test',
    expect: 'deny',
    reason: 'issuer-not-authorized',
    why: 'wildcard DNS record synthesises CAA',
  },
  { name: 'loop1.caa.test', expect: 'error', reason: 'dns-servfail', why: 'CNAME loop fails closed' },
  {
    name: '*.wildacct.caa.test',
    expect: 'allow',
    reason: 'authorized',
    why: 'issuewild with matching accounturi',
  },
  {
    name: '*.wildacct.caa.test',
    accountUri: `${ACCT}9`,
    expect: 'deny',
    reason: 'account-uri-mismatch',
    why: 'issuewild with another account',
  },
  {
    name: 'wildacct.caa.test',
    expect: 'deny',
    reason: 'issuance-forbidden',
    why: 'non-wildcard governed by issue ";"',
  },
  {
    name: 'multi.caa.test',
    method: 'dns-01',
    expect: 'allow',
    reason: 'authorized',
    why: 'issuer domain compared case-insensitively',
  },
  {
    name: 'multi.caa.test',
    method: 'http-01',
    expect: 'deny',
    reason: 'validation-method-not-allowed',
    why: 'nearest miss reported',
  },
  {
    name: 'multi.caa.test',
    issuer: 'other-ca.example',
    method: 'http-01',
    expect: 'allow',
    reason: 'authorized',
    why: 'the other listed CA',
  },
  {
    name: 'a.b.critparent.caa.test',
    expect: 'deny',
    reason: 'critical-unknown-property',
    why: 'critical tag on the parent',
  },
  {
    name: 'host.le2.caa.test',
    expect: 'deny',
    reason: 'issuer-not-authorized',
    why: 'NODATA climbs to the parent',
  },
  {
    name: 'cname-to-host-le2.caa.test',
    expect: 'allow',
    reason: 'no-caa-records',
    why: "the alias target's parent (le2, which forbids) is not searched",
  },
  {
    name: 'ttl300.caa.test',
    expect: 'allow',
    reason: 'authorized',
    why: 'TTL reported (checked separately)',
  },
  { name: 'test', expect: 'error', reason: 'invalid-name', why: 'a single label is not a certificate name' },
  { name: '192.0.2.1', expect: 'error', reason: 'invalid-name', why: 'CAA does not apply to IP addresses' },
];
