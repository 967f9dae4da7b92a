import { describe, expect, it } from 'vitest';
import { parseZone } from '../zonefile.js';
import {
  caaRdata,
  formatGeneric,
  formatOctodns,
  formatTerraform,
  formatZone,
  proveRecords,
  suggestRecords,
} from './index.js';
import type { SuggestAccount } from './index.js';

const LE = 'https://acme-v02.api.letsencrypt.org/acme/acct/123';
const accounts: SuggestAccount[] = [
  { issuer: 'letsencrypt.org', accountUri: LE, methods: ['http-01'] },
  { issuer: 'letsencrypt.org', accountUri: LE, methods: ['dns-01'] },
  { issuer: 'sectigo.com', accountUri: 'https://acme.sectigo.com/v2/DV/acct/9', methods: ['dns-01'] },
];

describe('suggestRecords', () => {
  it('binds each account to its methods and forbids wildcards when none are used', () => {
    const recs = suggestRecords(accounts, { iodef: 'mailto:sec@example.com' });
    expect(formatZone('example.com', recs)).toBe(
      [
        `example.com. 3600 IN CAA 0 issue "letsencrypt.org; accounturi=${LE}; validationmethods=dns-01,http-01"`,
        'example.com. 3600 IN CAA 0 issue "sectigo.com; accounturi=https://acme.sectigo.com/v2/DV/acct/9; validationmethods=dns-01"',
        'example.com. 3600 IN CAA 0 issuewild ";"',
        'example.com. 3600 IN CAA 0 iodef "mailto:sec@example.com"',
        '',
      ].join('\n'),
    );
  });

  it('renders RFC 3597 generic RDATA that parses back to the same records', () => {
    const recs = suggestRecords(accounts);
    expect(caaRdata({ flags: 0, tag: 'issuewild', value: ';' }).toString('hex')).toBe(
      '0009697373756577696c643b',
    );
    const back = parseZone(formatGeneric('example.com', recs)).map((r) => r.caa);
    expect(back).toEqual(recs);
    const back2 = parseZone(formatZone('example.com', recs)).map((r) => r.caa);
    expect(back2).toEqual(recs);
  });

  it('renders octoDNS and Terraform', () => {
    const recs = suggestRecords(accounts);
    expect(formatOctodns('example.com', recs)).toContain(
      '      - flags: 0\n        tag: issuewild\n        value: ";"',
    );
    expect(formatTerraform('example.com', recs)).toContain('resource "aws_route53_record" "caa_example_com"');
    expect(formatTerraform('example.com', recs)).toContain('"0 issuewild \\";\\""');
  });
});

describe('proveRecords', () => {
  it('holds for the suggested records', async () => {
    const recs = suggestRecords(accounts);
    const proof = await proveRecords('example.com', accounts, recs);
    expect(proof.holds).toBe(true);
    expect(proof.rows.filter((r) => r.expect === 'allow')).toHaveLength(3);
    expect(new Set(proof.rows.map((r) => r.case))).toEqual(
      new Set([
        'owner account and method',
        'owner account, wildcard not used',
        'another account',
        'no account',
        'another method',
        'another CA',
      ]),
    );
  });

  it('allows wildcards only for accounts that use them', async () => {
    const acc = [{ issuer: 'letsencrypt.org', accountUri: LE, methods: ['dns-01'], wildcard: true }];
    const proof = await proveRecords('example.com', acc, suggestRecords(acc));
    expect(proof.holds).toBe(true);
    expect(proof.rows.find((r) => r.name === '*.example.com')?.decision).toBe('allow');
  });

  it('fails for a too-loose RRset', async () => {
    const proof = await proveRecords('example.com', accounts, [
      { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
    ]);
    expect(proof.holds).toBe(false);
  });
});
