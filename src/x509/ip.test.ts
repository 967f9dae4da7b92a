import { describe, expect, it } from 'vitest';
import { formatIp } from './ip.js';

const fmt = (hex: string): string | null => {
  const buf = Buffer.from(hex, 'hex');
  return formatIp(buf, 0, buf.length);
};

describe('formatIp (RFC 5952)', () => {
  it.each([
    ['c0000201', '192.0.2.1'],
    ['00000000', '0.0.0.0'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000000', '2001:db8::'],
    // §4.2.2: a single zero group is not compressed.
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    // §4.2.3: the longest run wins; on a tie, the first.
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010000000000010001000000000001', '2001::1:1:0:0:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    // §4.3: lower case, no leading zeros.
    ['20010DB800AB000000000000000C00FF', '2001:db8:ab::c:ff'],
    // §5: IPv4-mapped addresses end in a dotted quad.
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['c00002', null],
    ['', null],
  ])('%s → %s', (hex, expected) => {
    expect(fmt(hex)).toBe(expected);
  });
});
