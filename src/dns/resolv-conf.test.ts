import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { parseEndpoint, parseResolvConf } from './resolv-conf.js';

describe('parseResolvConf', () => {
  it('reads nameservers (v4, v6, zone ids) and options, ignoring comments and junk', () => {
    const conf = parseResolvConf(
      [
        '# comment',
        'search example.com',
        'nameserver 192.0.2.53',
        'nameserver 2001:db8::53 ; note',
        'nameserver fe80::1%eth0',
        'nameserver not-an-ip',
        'options timeout:2 attempts:3 rotate',
      ].join('\n'),
    );
    expect(conf.servers).toEqual([
      { host: '192.0.2.53', port: 53 },
      { host: '2001:db8::53', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
    expect(conf).toMatchObject({ timeoutMs: 2000, attempts: 3 });
  });
});

describe('parseEndpoint', () => {
  it.each([
    ['127.0.0.1', { host: '127.0.0.1', port: 53 }],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: 53 }],
  ])('%s', (spec, endpoint) => {
    expect(parseEndpoint(spec)).toEqual(endpoint);
  });

  it.each([
    'resolver.example:53',
    '127.0.0.1:0',
    '127.0.0.1:70000',
    '127.0.0.1:x',
    '',
    // Issue 12: bad ports and brackets are usage errors everywhere.
    '127.0.0.1:99999',
    '[::1',
    '::1]',
    '[::1]:',
    '[127.0.0.1]:53',
    '127.0.0.1:',
    '127.0.0.1:0x35',
    '127.0.0.1:5.3e1',
    '127.0.0.1: 53',
  ])('rejects %j with a usage error', (spec) => {
    try {
      parseEndpoint(spec);
      expect.unreachable();
    } catch (err) {
      expect(isCertvigilError(err) && err.code).toBe('USAGE');
    }
  });
});

describe('parseEndpoint messages', () => {
  it('quote the input with control bytes escaped, on one line', () => {
    expect(() => parseEndpoint('127.0.0.1:\x1b[2J')).toThrow(/got "127\.0\.0\.1:\\x1B\[2J"\)$/);
  });
});
