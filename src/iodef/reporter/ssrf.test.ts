import { describe, expect, it } from 'vitest';
import { vetHost } from './ssrf.js';

describe('vetHost', () => {
  it('refuses when any address is non-public, and returns the checked one otherwise', async () => {
    const policy = { allowPrivateAddresses: false };
    await expect(
      vetHost('mixed.example', policy, async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.1', family: 4 },
      ]),
    ).rejects.toMatchObject({
      permanent: true,
      message: expect.stringContaining('10.0.0.1, a private address'),
    });
    await expect(
      vetHost('ok.example', policy, async () => [{ address: '93.184.216.34', family: 4 }]),
    ).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(vetHost('[fe80::1]', policy)).rejects.toMatchObject({ permanent: true });
    await expect(vetHost('none.example', policy, async () => [])).rejects.toMatchObject({ permanent: false });
    await expect(
      vetHost('down.example', policy, async () => {
        throw new Error('ENOTFOUND');
      }),
    ).rejects.toMatchObject({ permanent: false });
    await expect(vetHost('127.0.0.1', { allowPrivateAddresses: true })).resolves.toEqual({
      address: '127.0.0.1',
      family: 4,
    });
  });

  // The iodef URL is the zone's to choose (RFC 8659 §4.4): an AAAA answer must be global unicast,
  // checked at send time.
  it.each([
    ['64:ff9b:1::a00:1', 'nat64-local'],
    ['64:ff9b::a9fe:a9fe', 'nat64-link-local'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'teredo'],
    ['2002:a00:1::1', '6to4-private'],
    ['::ffff:0:7f00:1', 'ipv4-translated-loopback'],
  ])('refuses a name resolving to %s (%s)', async (address, kind) => {
    await expect(
      vetHost('rebind.example', { allowPrivateAddresses: false }, async () => [{ address, family: 6 }]),
    ).rejects.toMatchObject({ permanent: true, message: expect.stringContaining(`a ${kind} address`) });
  });
});
