/**
 * @module probe/connect
 * Which addresses to check and how to reach them. An interception can sit on one address of many
 * (one A record of two, or only the IPv6 path), so the external check connects to every address
 * the name resolves to, IPv4 and IPv6, unless `--connect-to` pins the address. Optionally through
 * a SOCKS5 proxy (RFC 1928), e.g. Tor, so the check comes from an address an interceptor cannot
 * predict and exempt; `socks5h://` leaves name resolution to the proxy. Or through an HTTP proxy's
 * CONNECT tunnel (RFC 9110 §9.3.6, `http-connect.ts`), the only way out of many monitoring hosts.
 */
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import { domainToASCII } from 'node:url';
import type { DnsClient } from '../dns/index.js';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { httpConnect } from './http-connect.js';
import { ipVersion } from './ip-literal.js';
import { describeProxySpec } from './proxy.js';
import type { ProxySpec } from './proxy.js';

// The proxy settings moved to proxy.ts; re-exported so that callers keep one import.
export { parseProxy } from './proxy.js';
export type { ProxySpec } from './proxy.js';

/**
 * `HOST`, `HOST:PORT`, `[V6]:PORT`, `[V6]` or a bare IPv6 literal; the port falls back to
 * `defaultPort`. The one parser of targets for `check`, `jarm` and `mitm`: anything else is a
 * `USAGE` error naming the target (sanitised: it may hold control bytes) and what is wrong, so a
 * typo such as `[::1` or `host:99999` can never become a probe of something else.
 */
export function parseHostPort(target: string, defaultPort: number): { host: string; port: number } {
  const bad = (why: string): CertvigilError =>
    new CertvigilError(
      'USAGE',
      `bad target ${quote(target)}: ${why} (want HOST, HOST:PORT, [IPv6]:PORT or an IPv6 address)`,
    );
  if (target === '') throw bad('empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw bad('a URL, not a host');
  if (target.startsWith('[')) {
    const m = /^\[([^[\]]*)\](?::([^:]*))?$/.exec(target);
    if (!m) throw bad('an IPv6 address in brackets must be followed by nothing or :PORT');
    const host = m[1] ?? '';
    if (isIP(host) !== 6) throw bad('not an IPv6 address in the brackets');
    return { host, port: m[2] === undefined ? defaultPort : portOf(m[2], bad) };
  }
  if (ipVersion(target) === 6) return { host: target, port: defaultPort };
  const colons = target.split(':').length - 1;
  if (colons > 1) throw bad('not an IPv6 address; write [IPv6]:PORT');
  if (colons === 1) {
    const colon = target.indexOf(':');
    const host = target.slice(0, colon);
    if (host === '') throw bad('no host before the port');
    return { host: hostOf(host, bad), port: portOf(target.slice(colon + 1), bad) };
  }
  return { host: hostOf(target, bad), port: defaultPort };
}

/**
 * A host without a port (`--connect-to`, `--sni`, `mitm TARGET`): an IPv4 or IPv6 address (IPv6
 * also in brackets) or a DNS name. With `nameOnly` IP addresses are refused (RFC 6066 §3: "Literal
 * IPv4 and IPv6 addresses are not permitted in HostName", so an SNI is always a name).
 */
export function parseHost(text: string, what: string, options: { nameOnly?: boolean } = {}): string {
  const bad = (why: string): CertvigilError =>
    new CertvigilError('USAGE', `bad ${what} ${quote(text)}: ${why}`);
  if (text === '') throw bad('empty');
  const unbracketed = /^\[([^[\]]*)\]$/.exec(text)?.[1];
  const literal = unbracketed ?? text;
  if (ipVersion(literal) !== 0) {
    if (options.nameOnly) throw bad('an IP address is not a server name (RFC 6066 §3)');
    return literal;
  }
  if (unbracketed !== undefined) throw bad('not an IPv6 address in the brackets');
  if (text.startsWith('[')) throw bad('an IPv6 address in brackets must end with ]');
  if (text.includes(':')) throw bad('no port here');
  return hostOf(text, bad);
}

/** One TCP port: 1–65535, decimal digits only. */
function portOf(text: string, bad: (why: string) => CertvigilError): number {
  if (text === '') throw bad('no port after the colon');
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`port must be 1-65535 (got ${quote(text)})`);
  return port;
}

/**
 * An IPv4 address or a DNS name. RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 253
 * (255 on the wire). Letters, digits, `-` and `_` (service labels such as `_xmpp`) only; a Unicode
 * name is converted to its A-labels (RFC 5891 via WHATWG URL's domainToASCII). A trailing dot is allowed.
 */
function hostOf(text: string, bad: (why: string) => CertvigilError): string {
  if (ipVersion(text) === 4) return text;
  // eslint-disable-next-line no-control-regex -- the point is to find them
  if (/[\u0000-\u0020\u007f-\u009f]/.test(text)) throw bad('spaces or control characters');
  let name = text;
  // eslint-disable-next-line no-control-regex -- printable ASCII is everything up to U+007E
  if (/[^\u0000-\u007e]/.test(name)) {
    name = domainToASCII(name);
    if (name === '') throw bad('not a valid internationalised domain name');
  }
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  if (name.length > 254 || (!name.endsWith('.') && name.length > 253))
    throw bad('a name has at most 253 characters');
  for (const label of labels) {
    if (label === '') throw bad('empty label');
    if (label.length > 63) throw bad('a label has at most 63 characters');
    if (!/^[A-Za-z0-9_-]+$/.test(label)) throw bad(`bad character in label ${quote(label)}`);
    // RFC 1123 §2.1 / RFC 952: a label neither starts nor ends with a hyphen (and a leading one
    // would read as an option to the traceroute this host may be handed to).
    if (label.startsWith('-') || label.endsWith('-'))
      throw bad(`label ${quote(label)} starts or ends with "-"`);
  }
  return name;
}

/** The user's text in a message: quoted, sanitised (it may hold ESC or bidi overrides), bounded. */
function quote(text: string): string {
  return `"${sanitizeText(text, { maxLength: 80 })}"`;
}

export interface ResolveOptions {
  /** Ask this resolver for A and AAAA instead of the system's getaddrinfo. */
  resolver?: DnsClient;
  family?: 4 | 6;
}

/** Every IPv4 and IPv6 address of `host` (an IP literal is its own only address). */
export async function resolveAddresses(host: string, options: ResolveOptions = {}): Promise<string[]> {
  if (ipVersion(host) !== 0) return [host];
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

/**
 * A connected TCP socket to `address:port`, directly or through the proxy. Every failure is a
 * `PROBE_CONNECT` error; one naming a proxy never shows its credentials.
 */
export async function openTcp(address: string, port: number, options: ConnectOptions): Promise<Socket> {
  const proxy = options.proxy;
  if (proxy?.kind === 'http') {
    const deadline = Date.now() + options.timeoutMs;
    const socket = await connectDirect(
      proxy.host,
      proxy.port,
      options,
      `HTTP proxy ${describeProxySpec(proxy)}`,
    );
    await httpConnect(socket, proxy, address, port, {
      timeoutMs: Math.max(1, deadline - Date.now()),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return socket;
  }
  if (proxy) {
    // Loaded only when a proxy is used: it is most of this module's import cost.
    const { SocksClient } = await import('socks');
    const { socket } = await SocksClient.createConnection({
      proxy: {
        host: proxy.host,
        port: proxy.port,
        type: 5,
        // RFC 1929 username/password authentication when the URL carries credentials.
        ...(proxy.auth ? { userId: proxy.auth.username, password: proxy.auth.password } : {}),
      },
      command: 'connect',
      destination: { host: address, port },
      timeout: options.timeoutMs,
    }).catch((e: unknown) => {
      throw new CertvigilError(
        'PROBE_CONNECT',
        `SOCKS5 proxy ${hostPort(proxy.host, proxy.port)} could not reach ${hostPort(address, port)}: ${sanitizeText((e as Error).message, { maxLength: 200 })}`,
      );
    });
    return socket;
  }
  return connectDirect(address, port, options);
}

/** A plain TCP connection; `what` names a proxy in messages (default: the address itself). */
function connectDirect(
  address: string,
  port: number,
  options: ConnectOptions,
  what?: string,
): Promise<Socket> {
  const name = what ?? hostPort(address, port);
  return new Promise<Socket>((resolve, reject) => {
    const socket = new Socket();
    const fail = (message: string): void => {
      cleanup();
      socket.destroy();
      reject(new CertvigilError('PROBE_CONNECT', message));
    };
    const timer = setTimeout(() => fail(`connection to ${name} timed out`), options.timeoutMs);
    const onAbort = (): void => fail(`connection to ${name} aborted`);
    const onError = (e: Error): void => fail(`cannot connect to ${name}: ${e.message}`);
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
  return ipVersion(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
