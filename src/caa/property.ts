/**
 * @module caa/property
 * Parsing of one CAA resource record (RFC 8659 §4.1) and of the `issue`/`issuewild` value grammar
 * (RFC 8659 §4.2) with the RFC 8657 parameters `accounturi` and `validationmethods`.
 *
 * Pure and total: every function here accepts arbitrary input and never throws. A value that does
 * not match the grammar is returned as `malformed` with the reason, because RFC 8659 §4.2 says such
 * a property authorises nobody — but it must not stop a valid sibling from authorising.
 */

/** A CAA record as it came off the wire (RFC 8659 §4.1). */
export interface CaaRecord {
  flags: number;
  tag: string;
  value: string;
}

/** RFC 8659 §4.1: bit 0 of the flags octet (value 128) is the Issuer Critical Flag. */
export const CRITICAL_FLAG = 0x80;

/**
 * Property tags this engine understands. RFC 8659 §4.1 requires a CA to refuse issuance when a
 * critical property it does not understand is present, so this set is deliberately explicit:
 * `issue`, `issuewild`, `iodef` (RFC 8659 §4.2–4.4); `contactemail`/`contactphone` (CA/B Forum BR
 * Appendix A, contact for validation, no effect on authorisation); `issuemail` (RFC 9495, governs
 * S/MIME only, so it does not restrict TLS issuance).
 */
export const UNDERSTOOD_TAGS: ReadonlySet<string> = new Set([
  'issue',
  'issuewild',
  'iodef',
  'contactemail',
  'contactphone',
  'issuemail',
]);

/** RFC 8659 §4.1: tags are ASCII letters and digits only; at least one character. */
const TAG_RE = /^[A-Za-z0-9]+$/;

export function isCritical(record: CaaRecord): boolean {
  return (record.flags & CRITICAL_FLAG) !== 0;
}

/** Tag as compared: RFC 8659 §4.1 "Matching of tags is case insensitive". */
export function normalizedTag(record: CaaRecord): string {
  return record.tag.toLowerCase();
}

/** True when the tag is syntactically valid and one this engine understands. */
export function isUnderstoodTag(record: CaaRecord): boolean {
  return TAG_RE.test(record.tag) && UNDERSTOOD_TAGS.has(normalizedTag(record));
}

/** Result of parsing an `issue`/`issuewild` value. */
export type IssueValue =
  | {
      ok: true;
      /** Lower-cased issuer domain name, or null for an empty issuer (";" or "") which forbids issuance. */
      issuerDomain: string | null;
      /** Parameters in order, tags as written. */
      parameters: { tag: string; value: string }[];
      /** RFC 8657 §3, when present. */
      accountUri: string | null;
      /** RFC 8657 §4, when present: the permitted ACME validation method names. */
      validationMethods: string[] | null;
    }
  | { ok: false; error: string };

const WSP = new Set([' ', '\t']);

/** RFC 8659 §4.2 `label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))`. */
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/**
 * Why `value` is not an RFC 8659 §4.2 `issuer-domain-name` (`label *("." label)`, each label
 * letters and digits with inner hyphens), or null when it is one. Also refuses what the grammar
 * would let through but no CA uses: labels over 63 or names over 253 characters (RFC 1035
 * §2.3.4), and an all-numeric last label, which makes "192.0.2.1" an IP address, not a domain.
 */
export function issuerDomainProblem(value: string): string | null {
  if (value === '') return 'empty issuer domain name';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return 'a domain name is needed, not a URL';
  if (/[^\x21-\x7e]/.test(value)) return 'spaces and non-ASCII characters are not allowed (use A-labels)';
  if (value.length > 253) return `name of ${value.length} characters (at most 253)`;
  const labels = value.split('.');
  if (labels.some((l) => l === '')) return 'empty label (two dots in a row, or a leading or trailing dot)';
  const long = labels.find((l) => l.length > 63);
  if (long !== undefined) return `label of ${long.length} characters (at most 63)`;
  const bad = labels.find((l) => !LABEL_RE.test(l));
  if (bad !== undefined)
    return `label "${bad.slice(0, 63)}" is not letters, digits and inner hyphens (RFC 8659 §4.2)`;
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string))
    return 'an IP address is not an issuer domain name';
  return null;
}

/** RFC 8659 §4.2 `value = *(%x21-3A / %x3C-7E)`: visible ASCII except ";". */
function isValueChar(code: number): boolean {
  return (code >= 0x21 && code <= 0x3a) || (code >= 0x3c && code <= 0x7e);
}

/**
 * Parses an `issue` or `issuewild` property value per RFC 8659 §4.2:
 *
 *     issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
 *     issuer-domain-name = label *("." label)
 *     parameters = (parameter *WSP ";" *WSP parameters) / parameter
 *     parameter = tag *WSP "=" *WSP value
 *
 * The scanner follows the ABNF literally, so a trailing ";" after a parameter, a parameter without
 * "=", or a non-ASCII byte makes the whole value malformed (it then authorises nobody).
 */
export function parseIssueValue(value: string): IssueValue {
  const n = value.length;
  let i = 0;
  const skipWsp = (): void => {
    while (i < n && WSP.has(value[i] as string)) i++;
  };
  const readWhile = (pred: (code: number) => boolean): string => {
    const start = i;
    while (i < n && pred(value.charCodeAt(i))) i++;
    return value.slice(start, i);
  };
  const isDomainChar = (c: number): boolean =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e;
  const isTagChar = (c: number): boolean =>
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;

  skipWsp();
  let issuerDomain: string | null = null;
  if (i < n && value[i] !== ';') {
    const domain = readWhile(isDomainChar);
    if (domain === '' || !domain.split('.').every((l) => LABEL_RE.test(l))) {
      return { ok: false, error: `invalid issuer domain name at offset ${i}` };
    }
    issuerDomain = domain.toLowerCase();
    skipWsp();
  }
  const parameters: { tag: string; value: string }[] = [];
  if (i < n) {
    if (value[i] !== ';')
      return { ok: false, error: `unexpected character ${JSON.stringify(value[i])} at offset ${i}` };
    i++;
    skipWsp();
    while (i < n) {
      const tag = readWhile(isTagChar);
      if (!LABEL_RE.test(tag))
        return { ok: false, error: `invalid parameter tag at offset ${i - tag.length}` };
      skipWsp();
      if (value[i] !== '=') return { ok: false, error: `parameter "${tag}" has no "=" value` };
      i++;
      skipWsp();
      const paramValue = readWhile(isValueChar);
      parameters.push({ tag, value: paramValue });
      skipWsp();
      if (i === n) break;
      if (value[i] !== ';')
        return { ok: false, error: `unexpected character ${JSON.stringify(value[i])} at offset ${i}` };
      i++;
      skipWsp();
      // `parameters` is recursive: after ";" another parameter must follow, so "x=1;" is malformed.
      if (i === n) return { ok: false, error: 'trailing ";" after the last parameter' };
    }
  }
  return withRfc8657Parameters(issuerDomain, parameters);
}

/** RFC 8657 §4: `value = [*(label ",") label]` with the §4.2 label rule. */
const METHOD_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

function withRfc8657Parameters(
  issuerDomain: string | null,
  parameters: { tag: string; value: string }[],
): IssueValue {
  let accountUri: string | null = null;
  let validationMethods: string[] | null = null;
  const seen = new Set<string>();
  for (const p of parameters) {
    // Parameter tags are matched case-insensitively, like property tags (RFC 8659 §4.1). RFC 8659
    // does not say so for parameters; the choice is the fail-closed one: "AccountURI=…" restricts
    // rather than being ignored as an unknown parameter.
    const key = p.tag.toLowerCase();
    if (key !== 'accounturi' && key !== 'validationmethods') continue; // RFC 8659 §4.2: unknown ones are ignored
    // RFC 8657 does not define a repeated parameter. Treating the record as malformed makes it
    // authorise nobody (fail closed) instead of guessing which occurrence the owner meant.
    if (seen.has(key)) return { ok: false, error: `parameter "${key}" appears more than once` };
    seen.add(key);
    if (key === 'accounturi') {
      // RFC 8657 §3: the value is a URI compared as-is with the ACME account URL.
      if (p.value === '') return { ok: false, error: 'empty accounturi' };
      accountUri = p.value;
    } else {
      const methods = p.value.split(',');
      if (!methods.every((m) => METHOD_RE.test(m))) {
        return { ok: false, error: `malformed validationmethods list ${JSON.stringify(p.value)}` };
      }
      validationMethods = methods;
    }
  }
  return { ok: true, issuerDomain, parameters, accountUri, validationMethods };
}

/** Zone-file presentation of a CAA record (RFC 8659 §4.1.1), escaping what is not printable. */
export function presentRecord(record: CaaRecord): string {
  let escaped = '';
  for (const ch of record.value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') escaped += `\\${ch}`;
    else if (code < 0x20 || code > 0x7e) {
      for (const byte of Buffer.from(ch, 'utf8')) escaped += `\\${byte.toString().padStart(3, '0')}`;
    } else escaped += ch;
  }
  return `${record.flags} ${record.tag} "${escaped}"`;
}
