/**
 * @module caa/iodef-url
 * The one check of an `iodef` property value (RFC 8659 §4.4), shared by `caa audit` (which grades
 * published records) and `caa suggest --iodef` (which must not propose a record the audit would
 * then flag). Pure.
 */
import { issuerDomainProblem } from './property.js';

export type IodefUrlCheck =
  | { ok: true; scheme: 'mailto' | 'https' }
  /** `scheme`: not mailto:/https:; `malformed`: the right scheme, but unusable. */
  | { ok: false; kind: 'scheme' | 'malformed'; error: string };

/** RFC 5322 §3.2.3 atext plus ".": what a dot-atom local part may hold (after %-decoding). */
const LOCAL_PART_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

function hostProblem(host: string): string | null {
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  // Host names follow the same LDH label rules as issuer domain names (RFC 1123 §2.1).
  const problem = issuerDomainProblem(bare);
  if (problem !== null) return problem;
  if (!bare.includes('.')) return 'the host must be a fully qualified domain name';
  return null;
}

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * RFC 8659 §4.4 allows mailto:, http: and https:. certvigil accepts mailto: and https: only: RFC
 * 6546 carries RID (IODEF over HTTP) over TLS, so an http: address sends the report — which names
 * the domain and the refused request — in clear text, and reporters that follow RFC 6546 skip it.
 */
export function checkIodefUrl(value: string): IodefUrlCheck {
  // RFC 3986 §2: a URI is visible ASCII. The WHATWG URL parser silently drops tabs and newlines,
  // so check the raw text first, or "https://a\n.example" would pass as "https://a.example".
  if (/^mailto:/i.test(value) || /^https:/i.test(value)) {
    if (!/^[\x21-\x7e]+$/.test(value))
      return { ok: false, kind: 'malformed', error: 'spaces, control or non-ASCII characters in the URL' };
  }
  if (/^mailto:/i.test(value)) {
    // RFC 6068 §2: mailto:addr-spec[,addr-spec…][?hfields]
    const [to = ''] = value.slice('mailto:'.length).split('?');
    if (to === '') return { ok: false, kind: 'malformed', error: 'mailto: without an address' };
    for (const raw of to.split(',')) {
      const addr = decode(raw);
      if (addr === null) return { ok: false, kind: 'malformed', error: `bad %-escape in ${raw}` };
      const at = addr.lastIndexOf('@');
      if (at <= 0) return { ok: false, kind: 'malformed', error: `"${addr}" is not an e-mail address` };
      if (!LOCAL_PART_RE.test(addr.slice(0, at)))
        return { ok: false, kind: 'malformed', error: `bad local part in "${addr}"` };
      const host = hostProblem(addr.slice(at + 1));
      if (host !== null) return { ok: false, kind: 'malformed', error: `bad domain in "${addr}": ${host}` };
    }
    return { ok: true, scheme: 'mailto' };
  }
  if (/^https:/i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return { ok: false, kind: 'malformed', error: 'not a valid URL' };
    }
    if (url.username !== '' || url.password !== '')
      return { ok: false, kind: 'malformed', error: 'credentials in the URL (they would be public in DNS)' };
    if (url.hostname.startsWith('[') || /^[0-9.]+$/.test(url.hostname))
      return { ok: false, kind: 'malformed', error: 'the host must be a domain name, not an IP address' };
    const host = hostProblem(url.hostname);
    if (host !== null) return { ok: false, kind: 'malformed', error: `bad host: ${host}` };
    return { ok: true, scheme: 'https' };
  }
  if (/^http:/i.test(value))
    return {
      ok: false,
      kind: 'scheme',
      error: 'http: sends reports in clear text; RFC 6546 carries them over TLS (use https:)',
    };
  return { ok: false, kind: 'scheme', error: 'only mailto: and https: URLs are accepted (RFC 8659 §4.4)' };
}
