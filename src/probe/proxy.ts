/**
 * @module probe/proxy
 * Which proxy, if any, a probe's raw TCP connection goes through, as pure decisions over the
 * `--proxy` value or the environment: a SOCKS5 proxy (RFC 1928, `socks5://`, `socks5h://`) or an
 * HTTP proxy tunnelling with CONNECT (RFC 9110 §9.3.6, `http://`). The I/O lives in `connect.ts`
 * (SOCKS5) and `http-connect.ts` (CONNECT).
 *
 * Credentials (`http://user:pass@host:3128`, `socks5://user:pass@…`) are kept in the spec for the
 * handshake only: every message built here shows the proxy as `describeProxySpec` writes it,
 * without them, and a URL quoted in an error has its user information masked first.
 *
 * The environment, when no `--proxy` is given and `--no-proxy` is not (curl's rules, as
 * `ct/proxy.ts` applies them to the CT downloads):
 * - a TLS endpoint (no STARTTLS: an https-like service) uses `https_proxy`, else `all_proxy`;
 * - a STARTTLS endpoint (smtp, imap, …) uses `all_proxy` only, as curl does for smtp:// or imap://
 *   URLs (curl reads `<scheme>_proxy`, then `all_proxy`; `https_proxy` is for https:// only);
 * - lower-case names first, then upper-case; a blank value is unset;
 * - a value without a scheme is `http://` (curl's default proxy type);
 * - `no_proxy`/`NO_PROXY` exempts the target by the checked HOST (not its resolved addresses):
 *   `*`, domain suffixes, IP literals, CIDR ranges, `:port` (ct/proxy.ts `bypassesProxy`).
 *   DEVIATION from Go's net/http, like curl and undici: loopback is NOT exempt implicitly; list
 *   `localhost,127.0.0.0/8,::1` in NO_PROXY to keep loopback checks direct.
 */
// The module itself, not the ct barrel: a proxy decision must not load the CT client (zod, undici).
import { bypassesProxy } from '../ct/index.js';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { Finding } from './types.js';

export type ProxyKind = 'socks5' | 'http';

export interface ProxySpec {
  /** `socks5`: RFC 1928 (with RFC 1929 username/password); `http`: CONNECT (RFC 9110 §9.3.6). */
  kind: ProxyKind;
  host: string;
  port: number;
  /**
   * The proxy resolves the target name; no local DNS lookup at all. `socks5h://`, and always for
   * `http://`: a CONNECT names the host (RFC 9110 §9.3.6 authority-form), as curl sends it.
   */
  remoteDns: boolean;
  /** Proxy credentials; never printed. */
  auth?: { username: string; password: string };
  /** Where the setting came from, for messages: `--proxy` or the environment variable's name. */
  source?: string;
}

/** The default port of each proxy scheme (RFC 1928 §3: 1080; curl's HTTP proxy default: 1080 too). */
const DEFAULT_PORT: Record<ProxyKind, number> = { socks5: 1080, http: 1080 };

/**
 * A proxy URL fit for a message: user information masked, sanitised (it may hold control bytes),
 * bounded. Works on text that is no URL at all.
 */
export function maskProxyUrl(text: string): string {
  // scheme://userinfo@ → scheme://***@ ; the userinfo ends at the LAST @ before the path.
  const masked = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)@/i, (_m, scheme: string | undefined) => {
    return `${scheme ?? ''}***@`;
  });
  return `"${sanitizeText(masked, { maxLength: 80 })}"`;
}

/** `http://127.0.0.1:3128` or `socks5h://[::1]:1080`: no credentials. */
export function describeProxySpec(proxy: ProxySpec): string {
  const scheme = proxy.kind === 'http' ? 'http' : proxy.remoteDns ? 'socks5h' : 'socks5';
  const host = proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host;
  return `${scheme}://${host}:${proxy.port}`;
}

/** The INFO finding `proxy`: which proxy a check went through, and where that setting came from. */
export function proxyFinding(proxy: ProxySpec): Finding {
  const kind = proxy.kind === 'http' ? 'HTTP proxy' : 'SOCKS5 proxy';
  return {
    id: 'proxy',
    severity: 'info',
    message: `checked through ${kind} ${describeProxySpec(proxy)}${proxy.source !== undefined ? ` (${proxy.source})` : ''}`,
    address: '*',
  };
}

/**
 * Parses `socks5://[user:pass@]HOST[:PORT]`, `socks5h://…` or `http://[user:pass@]HOST[:PORT]`.
 * `what` names the setting in messages (`--proxy`, `https_proxy`, …). A `USAGE` error otherwise.
 */
export function parseProxy(url: string, what = '--proxy'): ProxySpec {
  const shown = maskProxyUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CertvigilError(
      'USAGE',
      `${what} must be a URL like http://proxy.example:3128 or socks5://127.0.0.1:9050 (got ${shown})`,
    );
  }
  const kind: ProxyKind | undefined =
    u.protocol === 'socks5:' || u.protocol === 'socks5h:'
      ? 'socks5'
      : u.protocol === 'http:'
        ? 'http'
        : undefined;
  if (kind === undefined)
    throw new CertvigilError(
      'USAGE',
      `${what} supports http://, socks5:// and socks5h:// only (got ${sanitizeText(u.protocol, { maxLength: 20 })}//)`,
    );
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '')
    throw new CertvigilError('USAGE', `${what} must not have a path, query or fragment (got ${shown})`);
  const port = u.port === '' ? DEFAULT_PORT[kind] : Number(u.port);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '' || port < 1)
    throw new CertvigilError('USAGE', `${what} needs a host and a port 1-65535 (got ${shown})`);
  const spec: ProxySpec = { kind, host, port, remoteDns: kind === 'http' || u.protocol === 'socks5h:' };
  if (u.username !== '' || u.password !== '') {
    let username: string;
    let password: string;
    try {
      username = decodeURIComponent(u.username);
      password = decodeURIComponent(u.password);
    } catch {
      throw new CertvigilError('USAGE', `${what} has badly percent-encoded credentials (got ${shown})`);
    }
    // RFC 1929 §2: UNAME and PASSWD are 1-255 octets each. RFC 7617 §2: the user-id of Basic
    // must not contain a colon.
    if (kind === 'socks5' && (Buffer.byteLength(username) > 255 || Buffer.byteLength(password) > 255))
      throw new CertvigilError('USAGE', `${what}: SOCKS5 user names and passwords have at most 255 bytes`);
    if (kind === 'http' && username.includes(':'))
      throw new CertvigilError('USAGE', `${what}: the user name must not contain ":" (RFC 7617 §2)`);
    // eslint-disable-next-line no-control-regex -- they would end the Proxy-Authorization line
    if (/[\u0000-\u001f\u007f]/.test(username + password))
      throw new CertvigilError('USAGE', `${what}: control characters in the credentials`);
    spec.auth = { username, password };
  }
  return spec;
}

/** The environment variables of a probe's proxy, in the order they are read. */
export function proxyVariables(starttls: boolean): string[] {
  return starttls ? ['all_proxy', 'ALL_PROXY'] : ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'];
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

export interface ProxyTarget {
  host: string;
  port: number;
  /** A STARTTLS endpoint: only `all_proxy` applies (see the module comment). */
  starttls: boolean;
}

/**
 * The proxy for `target`: `flag` (`--proxy`) when given; else nothing with `noProxy`
 * (`--no-proxy`); else the environment's (undefined when unset or when NO_PROXY exempts the host).
 * Throws a `USAGE` error naming the variable when its value is not a usable proxy URL.
 */
export function chooseProxy(
  target: ProxyTarget,
  settings: { flag?: string; noProxy?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): ProxySpec | undefined {
  if (settings.flag !== undefined) return { ...parseProxy(settings.flag), source: '--proxy' };
  if (settings.noProxy === true) return undefined;
  let name: string | undefined;
  let value: string | undefined;
  for (const n of proxyVariables(target.starttls)) {
    value = envValue(env, n);
    if (value !== undefined) {
      name = n;
      break;
    }
  }
  if (name === undefined || value === undefined) return undefined;
  const noProxy = envValue(env, 'no_proxy') ?? envValue(env, 'NO_PROXY');
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  let url: URL;
  try {
    url = new URL(`https://${host}:${target.port}/`);
  } catch {
    return undefined; // not a host a URL can hold: nothing NO_PROXY could name either
  }
  if (bypassesProxy(url, noProxy)) return undefined;
  // curl: "If no protocol is specified in the proxy string … it is treated as an HTTP proxy."
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  return { ...parseProxy(withScheme, name), source: name };
}
