import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hostPort, openTcp, parseHostPort, parseProxy, resolveAddresses } from './connect.js';

describe('parseHostPort', () => {
  it.each([
    ['example.com', 443, 'example.com', 443],
    ['example.com:8443', 443, 'example.com', 8443],
    ['[2001:db8::1]:993', 443, '2001:db8::1', 993],
    ['[::1]', 25, '::1', 25],
    ['2001:db8::1', 443, '2001:db8::1', 443],
    ['127.0.0.1:5222', 443, '127.0.0.1', 5222],
  ])('%s (default %d) → %s %d', (target, def, host, port) => {
    expect(parseHostPort(target, def)).toEqual({ host, port });
  });
  it.each(['example.com:0', 'example.com:65536', 'example.com:x', '[::1]:99999', ''])('rejects %j', (t) => {
    expect(() => parseHostPort(t, 443)).toThrow(/port|host/);
  });
  it('writes IPv6 with brackets', () => {
    expect(hostPort('::1', 443)).toBe('[::1]:443');
    expect(hostPort('127.0.0.1', 443)).toBe('127.0.0.1:443');
  });
});

describe('parseProxy', () => {
  it('accepts socks5 and socks5h', () => {
    expect(parseProxy('socks5://127.0.0.1:9050')).toEqual({
      host: '127.0.0.1',
      port: 9050,
      remoteDns: false,
    });
    expect(parseProxy('socks5h://[::1]:1080')).toEqual({ host: '::1', port: 1080, remoteDns: true });
    expect(parseProxy('socks5://proxy.test')).toEqual({ host: 'proxy.test', port: 1080, remoteDns: false });
  });
  it.each(['http://127.0.0.1:3128', 'nonsense', 'socks4://127.0.0.1:1080'])('rejects %s', (u) => {
    expect(() => parseProxy(u)).toThrow(/--proxy/);
  });
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
