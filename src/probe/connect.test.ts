import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CertvigilError } from '../errors.js';
import { isSafeText } from '../sanitize.js';
import { hostPort, openTcp, parseHost, parseHostPort, parseProxy, resolveAddresses } from './connect.js';

describe('parseHostPort', () => {
  it.each([
    ['example.com', 443, 'example.com', 443],
    ['example.com:8443', 443, 'example.com', 8443],
    ['[2001:db8::1]:993', 443, '2001:db8::1', 993],
    ['[::1]', 25, '::1', 25],
    ['2001:db8::1', 443, '2001:db8::1', 443],
    ['::1', 443, '::1', 443],
    ['127.0.0.1:5222', 443, '127.0.0.1', 5222],
    ['_xmpp-client.example.com:5222', 443, '_xmpp-client.example.com', 5222],
    ['xn--bcher-kva.example', 443, 'xn--bcher-kva.example', 443],
    ['example.com.:443', 443, 'example.com.', 443],
    ['bücher.example:443', 443, 'xn--bcher-kva.example', 443],
    [`${'a'.repeat(63)}.test`, 443, `${'a'.repeat(63)}.test`, 443],
    ['h:65535', 443, 'h', 65535],
    ['h:1', 443, 'h', 1],
  ])('%s (default %d) → %s %d', (target, def, host, port) => {
    expect(parseHostPort(target, def)).toEqual({ host, port });
  });

  // Issue 12: `[::1` used to fall through to lastIndexOf(':') and probe host "[:" port 1.
  it.each([
    ['[::1', /IPv6 address in brackets/],
    ['[::1]:', /no port after the colon/],
    ['[::1]x', /IPv6 address in brackets/],
    ['[::1]:99999', /port must be 1-65535/],
    ['[example.com]:443', /not an IPv6 address/],
    ['[1.2.3.4]', /not an IPv6 address/],
    ['host:99999', /port must be 1-65535/],
    ['host:70000', /port must be 1-65535/],
    ['host:0', /port must be 1-65535/],
    ['host:00000', /port must be 1-65535/],
    ['host:-1', /port must be 1-65535/],
    ['host:+443', /port must be 1-65535/],
    ['host:4 43', /port must be 1-65535/],
    ['host:443 ', /port must be 1-65535/],
    ['host:1e3', /port must be 1-65535/],
    ['host:0x1bb', /port must be 1-65535/],
    ['host:123456789', /port must be 1-65535/],
    ['host:', /no port after the colon/],
    [':443', /no host before the port/],
    [':', /no host before the port/],
    ['', /empty/],
    ['a b:443', /spaces or control/],
    [' host', /spaces or control/],
    ['host\n', /spaces or control/],
    ['ho\u001b[31mst', /spaces or control/],
    ['ho\u0000st', /spaces or control/],
    ['evil\u202etset', /internationalised/],
    [`${'a'.repeat(64)}.test`, /at most 63/],
    [`${'a.'.repeat(127)}ab`, /at most 253/],
    ['a..b', /empty label/],
    ['.a', /empty label/],
    ['a/b:443', /bad character/],
    ['-I', /starts or ends with "-"/],
    ['--help:443', /starts or ends with "-"/],
    ['a-.test', /starts or ends with "-"/],
    ['http://example.com', /a URL/],
    ['https://example.com:443/', /a URL/],
    ['1:2:3', /not an IPv6 address/],
    ['a:b:443', /not an IPv6 address/],
  ])('rejects %j with a usage error (%s)', (target, why) => {
    let error: unknown;
    try {
      parseHostPort(target, 443);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CertvigilError);
    expect((error as CertvigilError).code).toBe('USAGE');
    expect((error as Error).message).toMatch(why);
    // One line, no raw control or bidi characters from the input.
    expect(isSafeText((error as Error).message)).toBe(true);
  });

  it('writes IPv6 with brackets', () => {
    expect(hostPort('::1', 443)).toBe('[::1]:443');
    expect(hostPort('127.0.0.1', 443)).toBe('127.0.0.1:443');
  });
});

describe('parseHost', () => {
  it.each([
    ['127.0.0.2', {}, '127.0.0.2'],
    ['::1', {}, '::1'],
    ['[2001:db8::5]', {}, '2001:db8::5'],
    ['www.example.test', {}, 'www.example.test'],
    ['www.example.test', { nameOnly: true }, 'www.example.test'],
  ])('%s %j → %s', (text, options, host) => {
    expect(parseHost(text, '--connect-to', options)).toBe(host);
  });
  it.each([
    ['', {}, /empty/],
    ['host:443', {}, /no port/],
    ['[::1', {}, /must end with \]/],
    ['[www.example]', {}, /not an IPv6/],
    ['a b', {}, /spaces/],
    ['127.0.0.1', { nameOnly: true }, /RFC 6066/],
    ['::1', { nameOnly: true }, /RFC 6066/],
    [`${'x'.repeat(64)}.test`, { nameOnly: true }, /63/],
  ])('rejects %j %j', (text, options, why) => {
    expect(() => parseHost(text, '--sni', options)).toThrow(why);
  });
});

describe('parseProxy (re-exported from proxy.ts)', () => {
  it('accepts socks5, socks5h and http', () => {
    expect(parseProxy('socks5://127.0.0.1:9050')).toEqual({
      kind: 'socks5',
      host: '127.0.0.1',
      port: 9050,
      remoteDns: false,
    });
    expect(parseProxy('socks5h://[::1]:1080')).toMatchObject({ host: '::1', port: 1080, remoteDns: true });
    expect(parseProxy('http://127.0.0.1:3128')).toMatchObject({ kind: 'http', remoteDns: true });
  });
  it.each(['https://127.0.0.1:3128', 'nonsense', 'socks4://127.0.0.1:1080', 'socks5://', 'socks5://:0'])(
    'rejects %s',
    (u) => {
      expect(() => parseProxy(u)).toThrow(/--proxy/);
    },
  );
});

describe('resolveAddresses', () => {
  it('returns an IP literal as its only address, without any lookup', async () => {
    expect(await resolveAddresses('127.0.0.2')).toEqual(['127.0.0.2']);
    expect(await resolveAddresses('::1')).toEqual(['::1']);
  });
  it('uses the system resolver for localhost (from /etc/hosts)', async () => {
    const addrs = await resolveAddresses('localhost', { family: 4 });
    expect(addrs).toContain('127.0.0.1');
  });
});

describe('openTcp', () => {
  it('connects, and reports a refused port clearly', async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const socket = await openTcp('127.0.0.1', port, { timeoutMs: 2000 });
    socket.destroy();
    server.close();
    await new Promise((r) => server.once('close', r));
    await expect(openTcp('127.0.0.1', port, { timeoutMs: 2000 })).rejects.toThrow(
      /cannot connect to 127.0.0.1:\d+/,
    );
  });
});
