/**
 * @module probe/connect
 * Which addresses to check and how to reach them. An interception can sit on one address of many
 * (one A record of two, or only the IPv6 path), so the external check connects to every address
 * the name resolves to, IPv4 and IPv6, unless `--connect-to` pins the address. Optionally through
 * a SOCKS5 proxy (RFC 1928), e.g. Tor, so the check comes from an address an interceptor cannot
 * predict and exempt; `socks5h://` leaves name resolution to the proxy.
 */
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import type { DnsClient } from '../dns/index.js';
import { CertvigilError } from '../errors.js';

export interface ProxySpec {
  host: string;
  port: number;
  /** socks5h: the proxy resolves the target name; no local DNS lookup at all. */
  remoteDns: boolean;
}

/** Parses `socks5://HOST:PORT` or `socks5h://HOST:PORT` (the only proxies a TLS probe can use). */
export function parseProxy(url: string): ProxySpec {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CertvigilError('USAGE', `--proxy must be a URL like socks5://127.0.0.1:9050 (got ${url})`);
  }
  if (u.protocol !== 'socks5:' && u.protocol !== 'socks5h:')
    throw new CertvigilError('USAGE', `--proxy supports socks5:// and socks5h:// only (got ${u.protocol}//)`);
  const port = u.port === '' ? 1080 : Number(u.port);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port, remoteDns: u.protocol === 'socks5h:' };
}

/** `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 literal; the port falls back to `defaultPort`. */
export function parseHostPort(target: string, defaultPort: number): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (bracket)
    return { host: bracket[1] ?? '', port: bracket[2] ? checkPort(bracket[2], target) : defaultPort };
  if (isIP(target) === 6) return { host: target, port: defaultPort };
  const colon = target.lastIndexOf(':');
  if (colon > 0) return { host: target.slice(0, colon), port: checkPort(target.slice(colon + 1), target) };
  if (target === '') throw new CertvigilError('USAGE', 'no host given');
  return { host: target, port: defaultPort };
}

function checkPort(text: string, target: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new CertvigilError('USAGE', `bad port in ${target}: ${text}`);
  return port;
}

export interface ResolveOptions {
  /** Ask this resolver for A and AAAA instead of the system's getaddrinfo. */
  resolver?: DnsClient;
  family?: 4 | 6;
}

/** Every IPv4 and IPv6 address of `host` (an IP literal is its own only address). */
export async function resolveAddresses(host: string, options: ResolveOptions = {}): Promise<string[]> {
  if (isIP(host)) return [host];
  const types = options.family === 4 ? ['A'] : options.family === 6 ? ['AAAA'] : ['A', 'AAAA'];
  const out: string[] = [];
  if (options.resolver) {
    const resolver = options.resolver;
    const answers = await Promise.all(types.map((t) => resolver.query(host, t)));
    for (const [i, response] of answers.entries()) {
      if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN')
        throw new CertvigilError(
          'DNS_NETWORK',
          `${types[i] ?? ''} lookup of ${host} failed: ${response.rcode}`,
        );
      for (const rr of response.answers)
        if (
          (rr.data.type === 'A' || rr.data.type === 'AAAA') &&
          rr.type === types[i] &&
          !out.includes(rr.data.address)
        )
          out.push(rr.data.address);
    }
  } else {
    try {
      const found = await lookup(host, { all: true, family: options.family ?? 0, verbatim: true });
      for (const a of found) if (!out.includes(a.address)) out.push(a.address);
    } catch (e) {
      throw new CertvigilError('DNS_NETWORK', `cannot resolve ${host}: ${(e as Error).message}`);
    }
  }
  if (out.length === 0) throw new CertvigilError('DNS_NETWORK', `${host} has no A or AAAA records`);
  return out;
}

export interface ConnectOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  proxy?: ProxySpec;
}

/** A connected TCP socket to `address:port`, directly or through the SOCKS5 proxy. */
export async function openTcp(address: string, port: number, options: ConnectOptions): Promise<Socket> {
  if (options.proxy) {
    // Loaded only when a proxy is used: it is most of this module's import cost.
    const { SocksClient } = await import('socks');
    const { socket } = await SocksClient.createConnection({
      proxy: { host: options.proxy.host, port: options.proxy.port, type: 5 },
      command: 'connect',
      destination: { host: address, port },
      timeout: options.timeoutMs,
    }).catch((e: unknown) => {
      throw new CertvigilError(
        'PROBE_CONNECT',
        `SOCKS5 proxy ${options.proxy?.host ?? ''}:${options.proxy?.port ?? 0} could not reach ${address}:${port}: ${(e as Error).message}`,
      );
    });
    return socket;
  }
  return new Promise<Socket>((resolve, reject) => {
    const socket = new Socket();
    const fail = (message: string): void => {
      cleanup();
      socket.destroy();
      reject(new CertvigilError('PROBE_CONNECT', message));
    };
    const timer = setTimeout(
      () => fail(`connection to ${hostPort(address, port)} timed out`),
      options.timeoutMs,
    );
    const onAbort = (): void => fail(`connection to ${hostPort(address, port)} aborted`);
    const onError = (e: Error): void => fail(`cannot connect to ${hostPort(address, port)}: ${e.message}`);
    const cleanup = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.connect({ host: address, port }, () => {
      cleanup();
      resolve(socket);
    });
  });
}

/** `1.2.3.4:443` or `[2001:db8::1]:443`. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
