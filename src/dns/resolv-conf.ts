/**
 * @module dns/resolv-conf
 * Where to send queries: `/etc/resolv.conf` by default (resolv.conf(5)), or an explicit
 * `HOST:PORT` from the command line.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { DnsEndpoint } from './types.js';

export interface ResolvConf {
  servers: DnsEndpoint[];
  timeoutMs?: number;
  attempts?: number;
}

/** Parses resolv.conf(5) text: `nameserver` lines and `options timeout:N attempts:N`. Pure. */
export function parseResolvConf(text: string): ResolvConf {
  const servers: DnsEndpoint[] = [];
  const conf: ResolvConf = { servers };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/[#;].*$/, '').trim();
    const [keyword, ...args] = line.split(/\s+/);
    if (keyword === 'nameserver' && args[0]) {
      const host = args[0].replace(/%.*$/, ''); // drop an IPv6 zone id (fe80::1%eth0)
      if (net.isIP(host)) servers.push({ host, port: 53 });
    } else if (keyword === 'options') {
      for (const opt of args) {
        const [k, v] = opt.split(':');
        const n = Number(v);
        if (k === 'timeout' && Number.isInteger(n) && n > 0) conf.timeoutMs = Math.min(n, 30) * 1000;
        if (k === 'attempts' && Number.isInteger(n) && n > 0) conf.attempts = Math.min(n, 5);
      }
    }
  }
  return conf;
}

/** resolv.conf(5): with no usable `nameserver` line the default is the local machine. */
export async function loadResolvConf(path = '/etc/resolv.conf'): Promise<ResolvConf> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    // A missing file means "use the default", exactly as the C library does.
  }
  const conf = parseResolvConf(text);
  if (conf.servers.length === 0) conf.servers.push({ host: '127.0.0.1', port: 53 });
  return conf;
}

/**
 * Parses `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 literal. Only IP literals are accepted:
 * resolving the resolver's own name would need a resolver.
 */
export function parseEndpoint(spec: string, defaultPort = 53): DnsEndpoint {
  const trimmed = spec.trim();
  const shown = `"${sanitizeText(spec, { maxLength: 80 })}"`;
  let host = trimmed;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(trimmed);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!net.isIPv6(host))
      throw new CertvigilError('USAGE', `only an IPv6 address goes in brackets (got ${shown})`);
  } else if (trimmed.startsWith('[') || trimmed.includes(']')) {
    throw new CertvigilError('USAGE', `unbalanced brackets in resolver address ${shown} (write [V6]:PORT)`);
  } else if (!net.isIPv6(trimmed)) {
    const idx = trimmed.lastIndexOf(':');
    if (idx >= 0) {
      host = trimmed.slice(0, idx);
      portText = trimmed.slice(idx + 1);
    }
  }
  if (!net.isIP(host)) {
    throw new CertvigilError('USAGE', `resolver must be an IP address, optionally with :PORT (got ${shown})`);
  }
  // Digits only: Number() would also take " 53", "0x35" and "5.3e1".
  const port = portText === undefined ? defaultPort : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CertvigilError('USAGE', `resolver port must be 1-65535 (got ${shown})`);
  }
  return { host, port };
}
