/**
 * @module caa/identifier
 * Turns the name a request carries into the name whose DNS tree is searched: Unicode to A-labels
 * (IDNA, as certificates carry them), lower case, no trailing dot, and the wildcard label removed.
 */
import { domainToASCII } from 'node:url';
import net from 'node:net';

export type Identifier = { ok: true; lookupName: string; wildcard: boolean } | { ok: false; error: string };

/** Letters, digits, hyphen; underscore too, since CAA may be published at service names. */
const LABEL_RE = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function parseIdentifier(raw: string): Identifier {
  let name = raw.trim();
  if (name.endsWith('.')) name = name.slice(0, -1);
  // RFC 8659 §3 / CA/B BR §3.2.2.8: for a Wildcard Domain Name the search starts at the name
  // with the "*" label removed; `issuewild` then governs (RFC 8659 §4.3).
  const wildcard = name.startsWith('*.');
  if (wildcard) name = name.slice(2);
  if (name === '') return { ok: false, error: 'empty domain name' };
  if (name.includes('*'))
    return { ok: false, error: `"*" is only allowed as the whole leftmost label: ${raw}` };
  if (net.isIP(name)) {
    return { ok: false, error: `${name} is an IP address: CAA (RFC 8659) applies to domain names only` };
  }
  const ascii = domainToASCII(name);
  if (ascii === '') return { ok: false, error: `not a valid (internationalised) domain name: ${raw}` };
  const lookupName = ascii.toLowerCase();
  if (lookupName.length > 253) return { ok: false, error: `domain name longer than 253 characters: ${raw}` };
  const labels = lookupName.split('.');
  if (labels.length < 2) return { ok: false, error: `not a fully qualified domain name: ${raw}` };
  const bad = labels.find((l) => !LABEL_RE.test(l));
  if (bad !== undefined) return { ok: false, error: `invalid label ${JSON.stringify(bad)} in ${raw}` };
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
