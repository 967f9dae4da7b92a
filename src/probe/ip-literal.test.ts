import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipVersion } from './ip-literal.js';

describe('ipVersion: the answers of Node’s isIP', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.1:443',
    '256.0.0.1',
    '1.2.3',
    'www.example.test',
    'www.example.test:443',
    '',
    ':',
    '::',
    '::1',
    ':1',
    '1:',
    '[::1]',
    '[::1]:443',
    '2001:db8::1',
    '2001:db8:0:0:0:0:0:1',
    '2001:db8:0:0:0:0:1',
    '::ffff:192.0.2.1',
    '::ffff:192.0.2.1:443',
    'fe80::1%eth0',
    'fe80::1%a:b',
    'fe80:1%eth0',
    'g::1',
    '1.2.3.4%eth0',
  ])('%j', (text) => {
    expect(ipVersion(text)).toBe(isIP(text));
  });
});
