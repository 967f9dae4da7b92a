import { describe, expect, it } from 'vitest';
import type { LogInfo } from '../ct/index.js';
import { evaluateCtPolicy } from './ct-policy.js';
import type { SctCheck } from './types.js';

function log(id: string, operator: string, extra: Partial<LogInfo> = {}): LogInfo {
  return {
    kind: 'rfc6962',
    description: `log ${id}`,
    operator,
    logId: id,
    key: new Uint8Array(0),
    url: `https://${id}.example/`,
    mmdSeconds: 86400,
    state: 'usable',
    ...extra,
  };
}

function sct(
  logId: string,
  source: SctCheck['source'] = 'embedded',
  extra: Partial<SctCheck> = {},
): SctCheck {
  return {
    source,
    logId,
    logName: null,
    operator: null,
    logState: null,
    logKind: null,
    logUrl: null,
    timestamp: Date.parse('2026-06-01T00:00:00Z'),
    status: 'valid',
    leafHash: '',
    ...extra,
  };
}

const logs = [
  log('a', 'Google'),
  log('b', 'Cloudflare'),
  log('c', 'Sectigo'),
  log('g2', 'Google'),
  log('t', 'Let’s Encrypt', { kind: 'static-ct-api' }),
  log('t2', 'Geomys', { kind: 'static-ct-api' }),
  log('r', 'DigiCert', { state: 'retired', stateTimestamp: '2026-07-01T00:00:00Z' }),
  log('r-old', 'TrustAsia', { state: 'retired', stateTimestamp: '2026-05-01T00:00:00Z' }),
  log('p', 'Pending Op', { state: 'pending' }),
  log('x', 'Rejected Op', { state: 'rejected' }),
];
const short = { notBefore: '2026-06-01T00:00:00Z', notAfter: '2026-08-30T00:00:00Z' }; // 90 days
const long = { notBefore: '2026-06-01T00:00:00Z', notAfter: '2027-06-01T00:00:00Z' }; // 365 days
const base = { logs, now: new Date('2026-11-24T00:00:00Z') };

describe('evaluateCtPolicy (Chrome / Apple CT policy)', () => {
  const cases: {
    name: string;
    scts: SctCheck[];
    life?: typeof short;
    policy?: 'chrome' | 'apple' | 'none';
    minScts?: number;
    compliant: boolean;
    reason?: RegExp;
  }[] = [
    { name: 'two operators, 90 days', scts: [sct('a'), sct('b')], compliant: true },
    { name: 'one SCT', scts: [sct('a')], compliant: false, reason: /1 SCT from qualifying logs, 2 required/ },
    {
      name: 'two logs, one operator',
      scts: [sct('a'), sct('g2')],
      compliant: false,
      reason: /1 log operator/,
    },
    { name: 'same log twice counts once', scts: [sct('a'), sct('a')], compliant: false, reason: /1 SCT/ },
    {
      name: 'long lifetime needs 3',
      scts: [sct('a'), sct('b')],
      life: long,
      compliant: false,
      reason: /3 required/,
    },
    { name: 'long lifetime with 3', scts: [sct('a'), sct('b'), sct('c')], life: long, compliant: true },
    {
      name: 'invalid SCTs do not count',
      scts: [sct('a'), sct('b', 'embedded', { status: 'invalid' })],
      compliant: false,
    },
    {
      name: 'unknown logs do not count',
      scts: [sct('a'), sct('zz', 'embedded', { status: 'unknown-log' })],
      compliant: false,
    },
    { name: 'pending log does not count', scts: [sct('a'), sct('p')], compliant: false },
    { name: 'rejected log does not count', scts: [sct('a'), sct('x')], compliant: false },
    { name: 'retired after the SCT counts', scts: [sct('a'), sct('r')], compliant: true },
    { name: 'retired before the SCT does not', scts: [sct('a'), sct('r-old')], compliant: false },
    {
      name: 'Chrome: static-ct-api only fails',
      scts: [sct('t'), sct('t2')],
      compliant: false,
      reason: /RFC 6962/,
    },
    {
      name: 'Apple: static-ct-api only passes',
      scts: [sct('t'), sct('t2')],
      policy: 'apple',
      compliant: true,
    },
    {
      name: 'TLS-delivered: 2 needed even for long certs',
      scts: [sct('a', 'tls-extension'), sct('b', 'ocsp')],
      life: long,
      compliant: true,
    },
    {
      name: 'deliveries are not mixed',
      scts: [sct('a', 'embedded'), sct('b', 'tls-extension')],
      compliant: false,
    },
    {
      name: '--min-scts raises the count',
      scts: [sct('a'), sct('b')],
      minScts: 3,
      compliant: false,
      reason: /3 required/,
    },
    { name: '--min-scts 1 with policy none', scts: [sct('a')], policy: 'none', minScts: 1, compliant: true },
    { name: 'policy none, no SCTs', scts: [], policy: 'none', compliant: true },
    { name: 'no SCTs at all', scts: [], compliant: false, reason: /0 SCTs/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = evaluateCtPolicy(c.scts, {
        ...base,
        ...(c.life ?? short),
        policy: c.policy ?? 'chrome',
        ...(c.minScts !== undefined ? { minScts: c.minScts } : {}),
      });
      expect(r.compliant).toBe(c.compliant);
      if (c.reason) expect(r.reasons.join('; ')).toMatch(c.reason);
      if (c.compliant) expect(r.reasons).toEqual([]);
    });
  }
});
