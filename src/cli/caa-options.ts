/**
 * @module cli/caa-options
 * Validators for the flags the CAA commands share (`caa check`, `caa evaluate`, `caa suggest`,
 * `caa audit`, `acme accounts`, and `iodef build/send`, which take the same `--ca`, `--method`
 * and `--account-uri`). Each returns the value to use or throws a one-line USAGE error, before
 * anything is asked or written. Outside text in a message goes through `sanitizeText`.
 */
import { checkIodefUrl, issuerDomainProblem, parseIdentifier } from '../caa/index.js';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';

/** A user-supplied value as quoted in an error message: controls escaped, long values cut. */
export function shown(value: string): string {
  return `"${sanitizeText(value, { maxLength: 80 })}"`;
}

/**
 * The IANA "ACME Validation Methods" registry (RFC 8555 §9.7.8) entries a CA can use to validate a
 * name: http-01 and dns-01 (RFC 8555 §8.3–8.4), tls-alpn-01 (RFC 8737), email-reply-00 (RFC 8823),
 * tkauth-01 (RFC 9447), onion-csr-01 (RFC 9799). Left out: tls-sni-01/02, registered as reserved
 * ("not usable") by RFC 8555, and methods that are still drafts.
 */
export const KNOWN_VALIDATION_METHODS: readonly string[] = [
  'http-01',
  'dns-01',
  'tls-alpn-01',
  'email-reply-00',
  'tkauth-01',
  'onion-csr-01',
];

/** RFC 8657 §4: CA-specific non-ACME methods are named "ca-" followed by more of the label rule. */
const CA_METHOD_RE = /^ca-[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

const splitList = (values: readonly string[]): string[] =>
  values.flatMap((v) => v.split(',')).map((v) => v.trim());

/** One issuer domain name (RFC 8659 §4.2), lower-cased, without a trailing dot. */
export function parseIssuerDomain(value: string, flag = '--ca'): string {
  const v = value.trim().replace(/\.$/, '');
  const problem = issuerDomainProblem(v);
  if (problem !== null)
    throw new CertvigilError(
      'USAGE',
      `${flag} must be a CA's issuer domain name such as letsencrypt.org: ${problem} (got ${shown(value)})`,
    );
  return v.toLowerCase();
}

/** Repeatable, comma-separated `--ca`: at least one, each a valid issuer domain name. */
export function parseIssuerDomains(values: readonly string[] | undefined, flag = '--ca'): string[] {
  const list = splitList(values ?? []);
  if (list.length === 0 || list.every((v) => v === ''))
    throw new CertvigilError('USAGE', `${flag} needs an issuer domain name, e.g. letsencrypt.org`);
  return [...new Set(list.map((v) => parseIssuerDomain(v, flag)))];
}

/** One validation method: a registered ACME method or an RFC 8657 §4 "ca-" method. */
export function parseValidationMethod(value: string, flag = '--method'): string {
  const v = value.trim();
  if (KNOWN_VALIDATION_METHODS.includes(v) || CA_METHOD_RE.test(v)) return v;
  const hint = KNOWN_VALIDATION_METHODS.includes(v.toLowerCase()) ? ` (method names are lower case)` : '';
  throw new CertvigilError(
    'USAGE',
    `${flag} must be an ACME validation method: ${KNOWN_VALIDATION_METHODS.join(', ')}, or a CA-specific ca-NAME (RFC 8657 §4)${hint} (got ${shown(value)})`,
  );
}

/** Repeatable, comma-separated `--method`. */
export function parseValidationMethods(values: readonly string[] | undefined, flag = '--method'): string[] {
  return [...new Set(splitList(values ?? []).map((v) => parseValidationMethod(v, flag)))];
}

/**
 * An ACME account URL (RFC 8555 §7.3: the account's "Location", always https, §6.1). It is compared
 * with RFC 8657 `accounturi` exactly, so it is returned as given, not normalised; it must also fit
 * in a CAA parameter value (RFC 8659 §4.2: visible ASCII except ";").
 */
export function parseAccountUri(value: string, flag = '--account-uri'): string {
  const fail = (why: string): never => {
    throw new CertvigilError(
      'USAGE',
      `${flag} must be the https URL of an ACME account: ${why} (got ${shown(value)})`,
    );
  };
  if (!/^[\x21-\x3a\x3c-\x7e]+$/.test(value)) fail('spaces, ";", control or non-ASCII characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('not a URL');
  }
  if (url.protocol !== 'https:') fail('the scheme must be https');
  if (url.hostname === '') fail('no host');
  if (url.username !== '' || url.password !== '') fail('credentials in the URL');
  return value;
}

/**
 * Names to check or audit: each must be a valid domain name (RFC 1035 lengths, no empty labels,
 * no controls), a wildcard only where `allowWildcard`. Returned as given.
 */
export function parseNames(names: readonly string[], options: { allowWildcard?: boolean } = {}): string[] {
  for (const name of names) {
    const id = parseIdentifier(name);
    if (!id.ok) throw new CertvigilError('USAGE', `invalid name: ${id.error}`);
    if (id.wildcard && !options.allowWildcard)
      throw new CertvigilError(
        'USAGE',
        `a wildcard is not allowed here: ${shown(name)} (give the domain itself)`,
      );
  }
  return [...names];
}

/** One domain name, as its lower-case A-label form (e.g. for `caa suggest DOMAIN`). */
export function parseDomain(name: string): string {
  const id = parseIdentifier(name);
  if (!id.ok) throw new CertvigilError('USAGE', `invalid name: ${id.error}`);
  if (id.wildcard) throw new CertvigilError('USAGE', `a wildcard is not allowed here: ${shown(name)}`);
  return id.lookupName;
}

/** `--iodef`: the check `caa audit` applies to published iodef records (one implementation). */
export function parseIodefUrl(value: string, flag = '--iodef'): string {
  const check = checkIodefUrl(value);
  if (!check.ok) throw new CertvigilError('USAGE', `${flag}: ${check.error} (got ${shown(value)})`);
  return value;
}
