/**
 * @module caa/identifier
 * Turns the name a request carries into the name whose DNS tree is searched: Unicode to A-labels
 * (IDNA, as certificates carry them), lower case, no trailing dot, and the wildcard label removed.
 */
import { domainToASCII } from 'node:url';
import net from 'node:net';
import { isSafeText, sanitizeText } from '../sanitize.js';

export type Identifier = { ok: true; lookupName: string; wildcard: boolean } | { ok: false; error: string };

/** Letters, digits, hyphen; underscore too, since CAA may be published at service names. */
const LABEL_RE = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

/** RFC 1035 §2.3.4: 63 octets per label, 255 per name on the wire (253 in text, no trailing dot). */
export const MAX_LABEL_LENGTH = 63;
export const MAX_NAME_LENGTH = 253;

/** A name as it may be quoted in an error message: controls escaped, long names cut. */
export function quoteName(raw: string): string {
  return `"${sanitizeText(raw, { maxLength: 80 })}"`;
}

/** Why the labels of an A-label name are unusable, or null. */
function labelProblem(lookupName: string, raw: string): string | null {
  if (lookupName.length > MAX_NAME_LENGTH)
    return `domain name of ${lookupName.length} characters (at most ${MAX_NAME_LENGTH}): ${quoteName(raw)}`;
  const labels = lookupName.split('.');
  if (labels.some((l) => l === ''))
    return `empty label (two dots in a row, or a leading dot) in ${quoteName(raw)}`;
  const long = labels.find((l) => l.length > MAX_LABEL_LENGTH);
  if (long !== undefined)
    return `label of ${long.length} characters (at most ${MAX_LABEL_LENGTH}) in ${quoteName(raw)}`;
  if (labels.length < 2) return `not a fully qualified domain name: ${quoteName(raw)}`;
  const bad = labels.find((l) => !LABEL_RE.test(l));
  if (bad !== undefined) return `invalid label ${quoteName(bad)} in ${quoteName(raw)}`;
  return null;
}

export function parseIdentifier(raw: string): Identifier {
  // Control bytes, spaces and format characters are never part of a host name; say so before IDNA
  // turns them into a vaguer "not valid" (and never echo them raw: they could drive the terminal).
  if (!isSafeText(raw.trim()) || /\s/.test(raw.trim()))
    return { ok: false, error: `control character or space in domain name ${quoteName(raw)}` };
  let name = raw.trim();
  if (name.endsWith('.')) name = name.slice(0, -1);
  // RFC 8659 §3 / CA/B BR §3.2.2.8: for a Wildcard Domain Name the search starts at the name
  // with the "*" label removed; `issuewild` then governs (RFC 8659 §4.3).
  const wildcard = name.startsWith('*.');
  if (wildcard) name = name.slice(2);
  if (name === '') return { ok: false, error: 'empty domain name' };
  if (name.includes('*'))
    return { ok: false, error: `"*" is only allowed as the whole leftmost label: ${quoteName(raw)}` };
  if (name.includes('/') || name.includes(':') || name.includes('@')) {
    if (net.isIP(name) === 6)
      return { ok: false, error: `${name} is an IP address: CAA (RFC 8659) applies to domain names only` };
    return { ok: false, error: `a domain name, not a URL or address, is needed: ${quoteName(raw)}` };
  }
  if (net.isIP(name)) {
    return { ok: false, error: `${name} is an IP address: CAA (RFC 8659) applies to domain names only` };
  }
  // Length and empty labels first: IDNA would accept or mangle them without saying which rule broke.
  const early = labelProblem(name.toLowerCase(), raw);
  if (early !== null && !/[\u0080-\u{10ffff}]/u.test(name)) return { ok: false, error: early };
  const ascii = domainToASCII(name);
  if (ascii === '')
    return { ok: false, error: `not a valid (internationalised) domain name: ${quoteName(raw)}` };
  const lookupName = ascii.toLowerCase();
  const problem = labelProblem(lookupName, raw);
  if (problem !== null) return { ok: false, error: problem };
  return { ok: true, lookupName, wildcard };
}

/**
 * RFC 8659 §3: the search path is the name itself, then each parent, up to but not including the
 * root. ("Public suffix" special cases were removed by RFC 8659; every level is searched.)
 */
export function searchPath(lookupName: string): string[] {
  const labels = lookupName.split('.');
  return labels.map((_, i) => labels.slice(i).join('.'));
}
