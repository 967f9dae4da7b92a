/** `--source-address` / `ctSourceAddress:` is checked before anything is created. */
import { describe, expect, it } from 'vitest';
import { checkSourceAddress } from './source-address.js';

describe('checkSourceAddress', () => {
  it.each(['127.0.0.1', '127.0.0.2', '127.0.0.5', '::1'])(
    'accepts %s, an address of this host',
    async (a) => {
      await expect(checkSourceAddress(a, '--source-address')).resolves.toBe(a);
    },
  );

  it.each([
    ['example.com', 'not a literal'],
    ['127.0.0.256', 'not a literal'],
    ['127.0.0.2:80', 'not a literal'],
    ['', 'not a literal'],
    // RFC 5737 TEST-NET-1 and RFC 3849 documentation prefix: never a host's own.
    ['192.0.2.1', 'not an address of this host (EADDRNOTAVAIL)'],
    ['2001:db8::1', 'not an address of this host'],
  ])('refuses %j as a USAGE error (%s)', async (a, why) => {
    const err = await checkSourceAddress(a, '--source-address').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'USAGE' });
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).not.toContain('\n');
  });

  it('shows an address with control characters escaped, on one line', async () => {
    const err = await checkSourceAddress('1.2.3.4\n\u001b[31m', 'ctSourceAddress').catch((e: unknown) => e);
    const message = (err as Error).message;
    expect(message).toMatch(/^ctSourceAddress ".*": not a literal/);
    expect(message).not.toContain('\n');
    expect(message).not.toContain('\u001b');
  });
});
