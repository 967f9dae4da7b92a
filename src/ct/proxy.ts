/**
 * @module ct/proxy
 * Which proxy, if any, a CT request goes through: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (and
 * their lower-case forms, which win, as in curl and undici). A pure decision over a URL and the
 * environment; `ct/http` turns it into an undici `ProxyAgent`.
 *
 * Why not undici's `EnvHttpProxyAgent`: it prints an "experimental" warning on stderr (a plugin's
 * output is read by Nagios), and its NO_PROXY matching knows neither CIDR ranges nor bracketed
 * IPv6 literals, so `NO_PROXY=127.0.0.0/8,[::1]` would silently still proxy.
 *
 * NO_PROXY (curl's semantics, comma- or space-separated):
 * - `*` alone: no proxy at all;
 * - a host name, optionally with a leading `.` or `*.`: that host and every name under it
 *   (`example.com` matches `ct.example.com`, not `badexample.com`);
 * - an IP literal (IPv6 with or without brackets) or a CIDR range (`127.0.0.0/8`, `::1/128`);
 * - any of those with `:port`: only for that port.
 * DEVIATION from Go's net/http: loopback is NOT bypassed implicitly (curl and undici agree); a
 * proxy may be the only way out and the user says where not to use it: `NO_PROXY=localhost,127.0.0.0/8,::1`.
 */
import { isIP } from 'node:net';

export interface ProxyConfig {
  /** Proxy for http:// URLs (HTTP_PROXY). */
  httpProxy?: string;
  /** Proxy for https:// URLs (HTTPS_PROXY; falls back to HTTP_PROXY, as curl and undici do). */
  httpsProxy?: string;
  /** The raw NO_PROXY value. */
  noProxy?: string;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The proxy settings in `env` (default `process.env`). */
export function proxyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const out: ProxyConfig = {};
  const http = envValue(env, 'http_proxy');
  const https = envValue(env, 'https_proxy');
  const no = envValue(env, 'no_proxy');
  if (http !== undefined) out.httpProxy = http;
  if (https !== undefined) out.httpsProxy = https;
  if (no !== undefined) out.noProxy = no;
  return out;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** IPv4 or IPv6 text → 32 or 128 bits as a bigint, with its width; undefined if not an IP. */
function ipBits(text: string): { bits: bigint; width: number } | undefined {
  const kind = isIP(text);
  if (kind === 4) {
    return {
      bits: text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n),
      width: 32,
    };
  }
  if (kind !== 6) return undefined;
  let s = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:127.0.0.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1] !== undefined) {
    const b = ipBits(v4[1]);
    if (b === undefined) return undefined;
    s = `${s.slice(0, -v4[1].length)}${(b.bits >> 16n).toString(16)}:${(b.bits & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { bits: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), width: 128 };
}

interface NoProxyEntry {
  host: string;
  port?: number;
  /** For IP literals and CIDR ranges. */
  net?: { bits: bigint; width: number; prefix: number };
}

function parseEntry(raw: string): NoProxyEntry | undefined {
  let s = raw.trim().toLowerCase();
  if (s === '') return undefined;
  let port: number | undefined;
  // host:port, [v6]:port; a bare IPv6 literal has several colons and no port.
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed?.[1] !== undefined) {
    s = bracketed[1];
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else {
    const hp = /^([^:]+):(\d+)$/.exec(s);
    if (hp?.[1] !== undefined && hp[2] !== undefined) {
      s = hp[1];
      port = Number(hp[2]);
    }
  }
  const cidr = /^(.+)\/(\d{1,3})$/.exec(s);
  const ipText = cidr?.[1] ?? s;
  const ip = ipBits(ipText);
  if (ip !== undefined) {
    const prefix = cidr?.[2] !== undefined ? Math.min(Number(cidr[2]), ip.width) : ip.width;
    return { host: ipText, ...(port !== undefined ? { port } : {}), net: { ...ip, prefix } };
  }
  const host = s.replace(/^\*?\.+/, '').replace(/\.$/, '');
  if (host === '') return undefined;
  return { host, ...(port !== undefined ? { port } : {}) };
}

function inNet(ip: { bits: bigint; width: number }, net: NonNullable<NoProxyEntry['net']>): boolean {
  if (ip.width !== net.width) return false;
  const shift = BigInt(net.width - net.prefix);
  return ip.bits >> shift === net.bits >> shift;
}

/** Whether NO_PROXY says `url` is reached directly. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const value = noProxy.trim();
  if (value === '*') return true;
  const host = stripBrackets(url.hostname.toLowerCase()).replace(/\.$/, '');
  const port = url.port !== '' ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
  const ip = ipBits(host);
  for (const raw of value.split(/[,\s]+/)) {
    const entry = parseEntry(raw);
    if (entry === undefined) continue;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.net !== undefined) {
      if (ip !== undefined && inNet(ip, entry.net)) return true;
      continue;
    }
    if (ip === undefined && (host === entry.host || host.endsWith(`.${entry.host}`))) return true;
  }
  return false;
}

/** The proxy URL for `url` under `config`, or undefined to connect directly. */
export function proxyFor(url: URL, config: ProxyConfig): string | undefined {
  const proxy =
    url.protocol === 'https:'
      ? (config.httpsProxy ?? config.httpProxy)
      : url.protocol === 'http:'
        ? config.httpProxy
        : undefined;
  if (proxy === undefined) return undefined;
  return bypassesProxy(url, config.noProxy) ? undefined : proxy;
}

/** A proxy URL fit for a log line: no user name or password. */
export function describeProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '(unparsable proxy URL)';
  }
}
