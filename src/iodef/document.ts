/**
 * @module iodef/document
 * Builds the IODEF v2 document (RFC 7970) a CA sends to a domain's CAA `iodef` address when CAA
 * made it refuse issuance (RFC 8659 §4.4: the iodef property asks for an IODEF report). The output
 * is checked against the IODEF 2.0 XSD in the tests (xmllint), for every generated report.
 *
 * Element choices (RFC 7970 §3.1 IODEF-Document, §3.2 Incident; the other classes are named as in
 * RFC 7970 §3 and the IODEF 2.0 XSD):
 *
 * - `IODEF-Document` version="2.00" xml:lang="en", one `Incident` purpose="reporting".
 * - `IncidentID` name = the CA's domain, text = `report.incidentId` (IncidentID class).
 * - `DetectTime` = detectedAt, `ReportTime` and `GenerationTime` = generatedAt (Incident).
 * - `Description`s: a summary, the validation state, one line per refused name. These are
 *   what receivers other than certvigil show.
 * - `Assessment` occurrence="potential" with `SystemImpact` type="policy" completion="failed"
 *   severity=risk (Assessment and SystemImpact classes): the issuance was attempted against the
 *   owner's policy and did not complete. `severity` carries {@link riskOf} (severity-type is
 *   exactly low/medium/high).
 * - `Contact` role="creator" type="organization" (Contact class): `ContactName` = CA name,
 *   `Email/EmailTo` = contactEmail; v2's Contact has no URL element, so the CA's URL is an
 *   `AdditionalData dtype="url" meaning="contact-url"` inside the Contact.
 * - `EventData` for the request: `Flow/System category="target"/Node/DomainData/Name` per
 *   requested name; one nested `EventData` per refused name whose `DomainData` holds the name,
 *   `DateDomainWasChecked` = detectedAt and the relevant CAA record set as `RelatedDNS
 *   dtype="string" meaning="caa-record"` (an ExtensionType), one per record.
 *
 * certvigil's machine-readable `AdditionalData` meanings (RFC 7970 ExtensionType: free `meaning`,
 * enumerated `dtype`) — the receiver (src/iodef/parse.ts) reads these back, whitespace-trimmed:
 *
 * | meaning                     | dtype   | where                  | value                              |
 * |-----------------------------|---------|------------------------|------------------------------------|
 * | `caa-refused-name`          | string  | per-name EventData     | the refused name                   |
 * | `caa-reason`                | string  | per-name EventData     | CAA engine reason code             |
 * | `caa-found-at`              | string  | per-name EventData     | where the record set was found     |
 * | `caa-alias-target`          | string  | per-name EventData     | alias target (absent when null)    |
 * | `dnssec-status`             | string  | per-name EventData     | secure/insecure/bogus/unknown      |
 * | `acme-validation-method`    | string  | request EventData      | RFC 8657 §4 method (absent if null)|
 * | `acme-validation-succeeded` | boolean | request EventData      | `true` / `false`                   |
 * | `acme-account-uri`          | url     | request EventData      | RFC 8657 §3 URI (absent if null)   |
 * | `contact-url`               | url     | Contact                | the CA's URL                       |
 * | `caa-record` (RelatedDNS)   | string  | per-name DomainData    | one record, presentation format    |
 *
 * XML writing: a ~40-line escaping writer rather than a library (xmlbuilder2 etc.). The document
 * shape is fixed and small, the escaping rules for XML 1.0 text and attributes are five
 * replacements plus whitespace character references, and owning them lets us *remove* the
 * characters XML 1.0 §2.2 forbids (C0 controls except TAB/LF/CR, U+FFFE/U+FFFF, lone surrogates)
 * instead of producing a document no parser accepts. All text and attribute values go through
 * {@link xmlSafe} and the escapers; no caller string is ever concatenated raw.
 */
import type { PreventedIssuance, IodefRisk } from './types.js';
import { IodefError } from './xml.js';

export const IODEF_NS = 'urn:ietf:params:xml:ns:iodef-2.0';

/** The AdditionalData / RelatedDNS `meaning`s this module defines (see the table above). */
export const MEANING = {
  refusedName: 'caa-refused-name',
  reason: 'caa-reason',
  foundAt: 'caa-found-at',
  aliasTarget: 'caa-alias-target',
  dnssec: 'dnssec-status',
  validationMethod: 'acme-validation-method',
  validationSucceeded: 'acme-validation-succeeded',
  accountUri: 'acme-account-uri',
  contactUrl: 'contact-url',
  caaRecord: 'caa-record',
} as const;

/**
 * CAA denials that say "a request the owner's policy excludes was made": another CA, a forbidden
 * name, or the authorised CA with the wrong account or validation method (RFC 8657).
 */
const POLICY_DENIALS: ReadonlySet<string> = new Set([
  'issuer-not-authorized',
  'issuance-forbidden',
  'account-uri-missing',
  'account-uri-mismatch',
  'validation-method-missing',
  'validation-method-not-allowed',
]);

/**
 * How risky the refused issuance looks to the domain owner:
 *
 * - `high`: domain validation had already succeeded — whoever asked could answer the CA's
 *   challenge for the name (controlled its DNS or traffic: jabber.ru, 2023). Only CAA stopped it.
 * - `medium`: a policy denial (another CA was asked, issuance is forbidden, or the authorised CA
 *   was used with a non-listed ACME account or validation method) without successful validation:
 *   someone tried, and the owner's policy did its job.
 * - `low`: everything else — refusals caused by the record set or the lookup (malformed records,
 *   unknown critical property, DNS/DNSSEC errors), which point at configuration, not an attacker.
 */
export function riskOf(report: Pick<PreventedIssuance, 'validationSucceeded' | 'refused'>): IodefRisk {
  return riskFrom(
    report.validationSucceeded,
    report.refused.map((r) => r.reason),
  );
}

/** The same rule from loose facts (used by the parser for reports from others). */
export function riskFrom(validationSucceeded: boolean | null, reasons: readonly string[]): IodefRisk {
  if (validationSucceeded === true) return 'high';
  if (reasons.some((r) => POLICY_DENIALS.has(r))) return 'medium';
  return 'low';
}

// ---- XML writing ----------------------------------------------------------------------------------

// XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
const INVALID_XML_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` without the characters XML 1.0 cannot carry at all (not even as character references). */
export function xmlSafe(s: string): string {
  return s.replace(INVALID_XML_CHARS, '');
}

function escapeText(s: string): string {
  return xmlSafe(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

interface Node {
  name: string;
  attrs?: Record<string, string>;
  text?: string;
  children?: Node[];
}

function serialize(node: Node, indent: string, out: string[]): void {
  const attrs = Object.entries(node.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
    .join('');
  if (node.children && node.children.length > 0) {
    out.push(`${indent}<${node.name}${attrs}>`);
    for (const c of node.children) serialize(c, `${indent}  `, out);
    out.push(`${indent}</${node.name}>`);
  } else if (node.text !== undefined && node.text !== '') {
    out.push(`${indent}<${node.name}${attrs}>${escapeText(node.text)}</${node.name}>`);
  } else {
    out.push(`${indent}<${node.name}${attrs}/>`);
  }
}

const text = (name: string, value: string, attrs?: Record<string, string>): Node => ({
  name,
  text: value,
  attrs,
});
const additional = (meaning: string, value: string, dtype = 'string'): Node =>
  text('AdditionalData', value, { dtype, meaning });

// ---- validation of the input ----------------------------------------------------------------------

/** xs:dateTime needs a 4-digit year here; JS dates are canonicalised to UTC with milliseconds. */
function dateTime(value: string, field: string): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new IodefError('IODEF_INVALID_REPORT', `${field} is not an ISO 8601 date-time`);
  }
  const iso = new Date(ms).toISOString();
  if (!/^\d{4}-/.test(iso) || iso.startsWith('0000')) {
    throw new IodefError('IODEF_INVALID_REPORT', `${field} is outside the years 0001–9999`);
  }
  return iso;
}

function required(value: string, field: string): string {
  const v = xmlSafe(value).trim();
  if (v === '') throw new IodefError('IODEF_INVALID_REPORT', `${field} must not be empty`);
  return v;
}

// ---- the document ---------------------------------------------------------------------------------

/**
 * The IODEF v2 document for one prevented issuance. Throws `IodefError('IODEF_INVALID_REPORT')`
 * when the report cannot make a valid document (empty incident id or CA domain, unparsable times).
 * Characters XML 1.0 forbids are removed from every string.
 */
export function buildIodefDocument(report: PreventedIssuance): string {
  const incidentId = required(report.incidentId, 'incidentId');
  const caDomain = required(report.ca.domain, 'ca.domain');
  const detected = dateTime(report.detectedAt, 'detectedAt');
  const generated = dateTime(report.generatedAt, 'generatedAt');
  const risk = riskOf(report);

  const descriptions: Node[] = [
    text(
      'Description',
      `CAA (RFC 8659) made ${report.ca.name || caDomain} refuse to issue a certificate for: ` +
        `${report.requestedNames.join(', ') || '(no names)'}.`,
    ),
    text(
      'Description',
      report.validationSucceeded
        ? `Domain validation had already succeeded${report.validationMethod ? ` (${report.validationMethod})` : ''}: ` +
            `whoever asked could answer the CA's challenge for these names. Risk: ${risk}.`
        : `Domain validation had not succeeded${report.validationMethod ? ` (method ${report.validationMethod})` : ''}. ` +
            `Risk: ${risk}.`,
    ),
    ...report.refused.map((r) =>
      text(
        'Description',
        `${r.name}: ${r.explanation} [${r.reason}; CAA records at ${r.foundAt ?? '(none)'}` +
          `${r.aliasTarget ? ` via ${r.aliasTarget}` : ''}: ${r.records.length > 0 ? r.records.join(' | ') : '(none)'}; ` +
          `DNSSEC ${r.dnssec}]`,
      ),
    ),
  ];

  const contact: Node = {
    name: 'Contact',
    attrs: { role: 'creator', type: 'organization' },
    children: [
      ...(report.ca.name ? [text('ContactName', report.ca.name)] : []),
      ...(report.ca.contactEmail
        ? [{ name: 'Email', children: [text('EmailTo', report.ca.contactEmail)] }]
        : []),
      ...(report.ca.url ? [additional(MEANING.contactUrl, report.ca.url, 'url')] : []),
    ],
  };

  const target = (domainData: Node[]): Node => ({
    name: 'Flow',
    children: [
      { name: 'System', attrs: { category: 'target' }, children: [{ name: 'Node', children: domainData }] },
    ],
  });

  const perName: Node[] = report.refused.map((r) => ({
    name: 'EventData',
    children: [
      text('Description', r.explanation),
      target([
        {
          name: 'DomainData',
          children: [
            text('Name', r.name),
            text('DateDomainWasChecked', detected),
            ...r.records.map((rec) =>
              text('RelatedDNS', rec, { dtype: 'string', meaning: MEANING.caaRecord }),
            ),
          ],
        },
      ]),
      additional(MEANING.refusedName, r.name),
      additional(MEANING.reason, r.reason),
      ...(r.foundAt !== null ? [additional(MEANING.foundAt, r.foundAt)] : []),
      ...(r.aliasTarget !== null ? [additional(MEANING.aliasTarget, r.aliasTarget)] : []),
      additional(MEANING.dnssec, r.dnssec),
    ],
  }));

  const request: Node = {
    name: 'EventData',
    children: [
      text('Description', 'The certificate request CAA refused.'),
      text('DetectTime', detected),
      // Node needs at least one DomainData; a request always has names, but stay valid if not.
      ...(report.requestedNames.length > 0
        ? [target(report.requestedNames.map((n) => ({ name: 'DomainData', children: [text('Name', n)] })))]
        : []),
      ...perName,
      ...(report.validationMethod !== null
        ? [additional(MEANING.validationMethod, report.validationMethod)]
        : []),
      additional(MEANING.validationSucceeded, String(report.validationSucceeded), 'boolean'),
      ...(report.accountUri !== null ? [additional(MEANING.accountUri, report.accountUri, 'url')] : []),
    ],
  };

  const incident: Node = {
    name: 'Incident',
    attrs: { purpose: 'reporting' },
    children: [
      text('IncidentID', incidentId, { name: caDomain }),
      text('DetectTime', detected),
      text('ReportTime', generated),
      text('GenerationTime', generated),
      ...descriptions,
      {
        name: 'Assessment',
        attrs: { occurrence: 'potential' },
        children: [
          {
            name: 'SystemImpact',
            attrs: { severity: risk, completion: 'failed', type: 'policy' },
            children: [
              text(
                'Description',
                'Certificate issuance refused: the domain CAA policy did not authorize it.',
              ),
            ],
          },
        ],
      },
      contact,
      request,
    ],
  };

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  serialize(
    {
      name: 'IODEF-Document',
      attrs: { version: '2.00', 'xml:lang': 'en', xmlns: IODEF_NS },
      children: [incident],
    },
    '',
    out,
  );
  return `${out.join('\n')}\n`;
}
