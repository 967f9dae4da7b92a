/**
 * @module iodef/reporter/targets
 * Where a CA may send an incident report: the `iodef` properties of the relevant CAA record set
 * (RFC 8659 §4.4). Its value is a URL; RFC 8659 §4.4 names two schemes, `mailto:` (an IODEF report
 * by email, RFC 6068 URL) and `https:` (an IODEF report as a web-service request, RFC 6546).
 * `http:` is parsed too (RFC 6844 allowed it) so that the policy can say why it is not used.
 *
 * Pure and total: every `iodef` record yields one `IodefTarget`; one that cannot be used carries
 * a `problem` code and a sentence instead of a recipient. Nothing is thrown for zone content.
 *
 * Normalisation, so that the same mailbox or endpoint is one recipient for dedup and rate limits:
 * mailto: a single address, `%`-escapes decoded (RFC 6068 §2), the domain lower-cased and in
 * A-labels, the local part kept as written (RFC 5321 §2.4: it is case-sensitive); header fields
 * (`?subject=`, `?body=`, `?cc=`) are dropped — a zone must not choose extra recipients or the text
 * of the CA's message. https: the WHATWG URL serialisation with the fragment removed.
 */
import { domainToASCII } from 'node:url';
import type { CaaResult } from '../../caa/index.js';

export type TargetProblem =
  | 'malformed-url'
  | 'unsupported-scheme'
  | 'mailto-no-address'
  | 'mailto-multiple-addresses'
  | 'mailto-bad-address'
  | 'url-credentials'
  | 'url-bad-host';

export interface IodefTarget {
  /** The property value as published. */
  value: string;
  /** The record in zone-file presentation. */
  record: string;
  /** `https` covers http: URLs too (the RFC 6546 web service); `null` when the value is unusable. */
  channel: 'mailto' | 'https' | null;
  /** Normalised `mailto:local@domain` or https/http URL; null when unusable. */
  recipient: string | null;
  /** The mail domain or the URL host (an IP literal without brackets); null when unusable. */
  host: string | null;
  /** For mailto: the bare address. */
  address: string | null;
  /** For web targets: the URL scheme was `http:` (no TLS). */
  insecure: boolean;
  problem: TargetProblem | null;
  /** Why it is unusable, for a human; null when usable. */
  detail: string | null;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

function unusable(value: string, record: string, problem: TargetProblem, detail: string): IodefTarget {
  return {
    value,
    record,
    channel: null,
    recipient: null,
    host: null,
    address: null,
    insecure: false,
    problem,
    detail,
  };
}

/** A host name in A-labels, lower case, no trailing dot; null when it is not a usable name. */
function normaliseDomain(domain: string): string | null {
  const ascii = domainToASCII(domain.replace(/\.$/, '').toLowerCase());
  if (ascii === '' || ascii.length > 253 || !ascii.includes('.')) return null;
  if (!ascii.split('.').every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) return null;
  return ascii;
}

function parseMailto(value: string, record: string): IodefTarget {
  const rest = value.slice('mailto:'.length);
  const query = rest.indexOf('?');
  const to = query === -1 ? rest : rest.slice(0, query);
  let decoded: string;
  try {
    decoded = decodeURIComponent(to).trim();
  } catch {
    return unusable(value, record, 'malformed-url', 'the mailto: URL has a broken %-escape');
  }
  if (decoded === '') return unusable(value, record, 'mailto-no-address', 'the mailto: URL names no address');
  if (decoded.includes(','))
    return unusable(value, record, 'mailto-multiple-addresses', 'the mailto: URL names several addresses');
  const at = decoded.lastIndexOf('@');
  const local = at > 0 ? decoded.slice(0, at) : '';
  const domain = at > 0 ? normaliseDomain(decoded.slice(at + 1)) : null;
  if (!ATEXT.test(local) || local.length > 64 || domain === null)
    return unusable(value, record, 'mailto-bad-address', `"${decoded}" is not a plain mail address`);
  const address = `${local}@${domain}`;
  return {
    value,
    record,
    channel: 'mailto',
    recipient: `mailto:${address}`,
    host: domain,
    address,
    insecure: false,
    problem: null,
    detail: null,
  };
}

function parseWeb(value: string, record: string): IodefTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return unusable(value, record, 'malformed-url', `"${value}" is not a URL`);
  }
  if (url.username !== '' || url.password !== '')
    return unusable(value, record, 'url-credentials', 'the URL carries credentials');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return unusable(value, record, 'url-bad-host', 'the URL has no host');
  url.hash = '';
  return {
    value,
    record,
    channel: 'https',
    recipient: url.href,
    host,
    address: null,
    insecure: url.protocol === 'http:',
    problem: null,
    detail: null,
  };
}

/** Parses one iodef property value (exported for tests and for the CLI's `--dry-run`). */
export function parseIodefValue(value: string, record = value): IodefTarget {
  const trimmed = value.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return unusable(value, record, 'malformed-url', `"${value}" is not a URL`);
  if (scheme === 'mailto') return parseMailto(trimmed, record);
  if (scheme === 'https' || scheme === 'http') return parseWeb(trimmed, record);
  return unusable(
    value,
    record,
    'unsupported-scheme',
    `RFC 8659 §4.4 defines mailto: and https: iodef URLs, not ${scheme}:`,
  );
}

/**
 * The `iodef` targets of the relevant record set of `result`, in record order. Tags compare
 * case-insensitively (RFC 8659 §4.1); other properties are not targets and are not listed.
 */
export function iodefTargets(result: CaaResult): IodefTarget[] {
  return result.records
    .filter((r) => r.tag.toLowerCase() === 'iodef')
    .map((r) => parseIodefValue(r.value, r.text));
}
