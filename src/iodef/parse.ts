/**
 * @module iodef/parse
 * Reads the IODEF reports a domain owner's `iodef` address receives (RFC 8659 §4.4) — strict about
 * XML safety (src/iodef/xml.ts), lenient about content: CAs send IODEF v2 (RFC 7970), v1
 * (RFC 5070), RID messages (RFC 6545) carrying an IODEF document (as posted over HTTP/TLS, RFC
 * 6546), and documents that are not schema-valid at all. We keep whatever tells the owner what
 * happened, and say separately whether the document was valid (`schemaValid`, `problems`).
 *
 * `schemaValid` is our own structural check of what matters in the v2 content model (RFC 7970 §3.1
 * IODEF-Document, §3.2 Incident sequence and enumerations, Contact role/type, AdditionalData
 * dtype), or the v1 equivalents (RFC 5070 §3.1 IODEF-Document, §3.2 Incident); it is not a full
 * XSD validation (e.g. enumerations below Incident other than Contact's are not checked).
 *
 * RID (RFC 6545): the IODEF-Document travels with the RID element (RIDPolicy etc., namespace
 * `urn:ietf:params:xml:ns:iodef-rid-2.0`), either inside the RID tree or beside it under a common
 * envelope element. We do not depend on the exact placement: when the root is a RID element, or
 * the document contains one, we take the first IODEF-Document found anywhere in the tree
 * (breadth-first) and record `envelope: 'rid'`.
 *
 * certvigil's own reports carry machine-readable AdditionalData (meanings in document.ts); values
 * are read back whitespace-trimmed.
 */
import { createHash } from 'node:crypto';
import type { IodefRisk, IodefSummary, RefusedName } from './types.js';
import { IODEF_NS, MEANING, riskFrom } from './document.js';
import { IodefError, attr, parseXml } from './xml.js';
import type { XmlElement } from './xml.js';

export { IodefError } from './xml.js';

export const IODEF_V1_NS = 'urn:ietf:params:xml:ns:iodef-1.0';
export const RID_NS = 'urn:ietf:params:xml:ns:iodef-rid-2.0';

const MAX_DESCRIPTION = 1000;
const MAX_DESCRIPTIONS = 50;
const MAX_VALUE = 4096;
const MAX_LIST = 1000;
const MAX_PROBLEMS = 100;

export interface ParseIodefOptions {
  /** Maximum document size in bytes (default 256 KiB). */
  maxBytes?: number;
  /** Maximum element depth (default 64). */
  maxDepth?: number;
  /** Maximum number of elements (default 10,000). */
  maxElements?: number;
}

export interface ParsedIodef {
  summary: IodefSummary;
  schemaValid: boolean;
  problems: string[];
}

const isIodefDocument = (el: XmlElement): boolean =>
  el.name.local === 'IODEF-Document' && (el.name.ns === IODEF_NS || el.name.ns === IODEF_V1_NS);

function breadthFirst(root: XmlElement, match: (el: XmlElement) => boolean): XmlElement | null {
  const queue: XmlElement[] = [root];
  for (let i = 0; i < queue.length; i++) {
    const el = queue[i] as XmlElement;
    if (match(el)) return el;
    queue.push(...el.children);
  }
  return null;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * Parse one received report. Throws `IodefError`: `IODEF_MALFORMED` (not well-formed XML, bad
 * encoding), `IODEF_UNSAFE` (DTD), `IODEF_TOO_LARGE` (size, depth, element count), or
 * `IODEF_NOT_IODEF` (well-formed, but no IODEF v1/v2 document in it).
 */
export function parseIodef(input: string | Uint8Array, options: ParseIodefOptions = {}): ParsedIodef {
  const root = parseXml(input, {
    maxBytes: options.maxBytes,
    maxDepth: options.maxDepth,
    maxElements: options.maxElements,
  });

  let envelope: IodefSummary['envelope'] = 'none';
  let doc: XmlElement | null;
  if (isIodefDocument(root)) {
    doc = root;
  } else {
    doc = breadthFirst(root, isIodefDocument);
    if (root.name.ns === RID_NS || breadthFirst(root, (el) => el.name.ns === RID_NS) !== null)
      envelope = 'rid';
  }
  if (doc === null) {
    const ns = root.name.ns === '' ? '' : `{${clip(root.name.ns, 100)}}`;
    throw new IodefError(
      'IODEF_NOT_IODEF',
      `no IODEF-Document (v1 or v2) in a document rooted at ${ns}${clip(root.name.local, 100)}`,
    );
  }

  const ns = doc.name.ns;
  const format: IodefSummary['format'] = ns === IODEF_NS ? 'iodef-2.0' : 'iodef-1.0';
  const problems = format === 'iodef-2.0' ? checkV2(doc) : checkV1(doc);
  if (doc !== root && envelope === 'none') {
    problems.push(`the IODEF-Document is nested in ${root.name.local}, not the root element`);
  }
  const shown =
    problems.length > MAX_PROBLEMS
      ? [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more`]
      : problems;
  return {
    summary: summarize(doc, ns, format, envelope),
    schemaValid: problems.length === 0,
    problems: shown,
  };
}

/**
 * Hex SHA-256 of `incidentIdName + '\n' + incidentId` when both are present, else of the document.
 * It names the IncidentID a report CLAIMS, which anyone can copy: the receiver groups reports by
 * it to spot conflicts, but deduplicates per sender and document (receiver/intake.ts `reportKeys`).
 */
export function iodefFingerprint(summary: IodefSummary, document: string | Uint8Array): string {
  const h = createHash('sha256');
  if (summary.incidentIdName !== null && summary.incidentId !== null) {
    h.update(`${summary.incidentIdName}\n${summary.incidentId}`, 'utf8');
  } else {
    h.update(document);
  }
  return h.digest('hex');
}

// ---- extraction -----------------------------------------------------------------------------------

function summarize(
  doc: XmlElement,
  ns: string,
  format: IodefSummary['format'],
  envelope: IodefSummary['envelope'],
): IodefSummary {
  const is = (el: XmlElement, local: string): boolean => el.name.ns === ns && el.name.local === local;
  const kids = (el: XmlElement, local: string): XmlElement[] => el.children.filter((c) => is(c, local));
  const first = (el: XmlElement, local: string): XmlElement | undefined =>
    el.children.find((c) => is(c, local));
  const value = (el: XmlElement | undefined): string | null => {
    if (el === undefined) return null;
    const v = el.text.trim();
    return v === '' ? null : clip(v, MAX_VALUE);
  };
  /** Every element of the IODEF namespace under `el` (depth-first, document order). */
  const all = (el: XmlElement, local: string): XmlElement[] => {
    const out: XmlElement[] = [];
    const walk = (e: XmlElement): void => {
      for (const c of e.children) {
        if (is(c, local)) out.push(c);
        walk(c);
      }
    };
    walk(el);
    return out;
  };
  const unique = (values: (string | null)[]): string[] => {
    const out: string[] = [];
    for (const v of values) if (v !== null && !out.includes(v) && out.length < MAX_LIST) out.push(v);
    return out;
  };

  const incident = first(doc, 'Incident') ?? doc;
  const incidentIdEl = first(incident, 'IncidentID');

  // Reporter: the Incident's Contacts and their nested Contacts.
  const reporter: string[] = [];
  const addContact = (c: XmlElement): void => {
    for (const n of kids(c, 'ContactName')) reporter.push(value(n) ?? '');
    for (const e of kids(c, 'Email')) {
      // v2: Email/EmailTo (RFC 7970 Contact class); v1: Email is the address itself (RFC 5070).
      const to = first(e, 'EmailTo');
      reporter.push(value(to ?? e) ?? '');
    }
    for (const a of kids(c, 'AdditionalData')) {
      if (attr(a, 'meaning') === MEANING.contactUrl || attr(a, 'dtype') === 'url')
        reporter.push(value(a) ?? '');
    }
    for (const nested of kids(c, 'Contact')) addContact(nested);
  };
  for (const c of kids(incident, 'Contact')) addContact(c);

  // Machine-readable data: AdditionalData / RelatedDNS by meaning, anywhere in the incident.
  const extensions = [...all(incident, 'AdditionalData'), ...all(incident, 'RelatedDNS')];
  const byMeaning = (meaning: string): string[] =>
    unique(extensions.filter((e) => attr(e, 'meaning') === meaning).map(value));
  const firstOf = (meaning: string): string | null => byMeaning(meaning)[0] ?? null;

  const succeeded = firstOf(MEANING.validationSucceeded);
  const validationSucceeded =
    succeeded === null
      ? null
      : succeeded === 'true' || succeeded === '1'
        ? true
        : succeeded === 'false' || succeeded === '0'
          ? false
          : null;

  // certvigil per-name EventData: an EventData with a caa-refused-name AdditionalData directly in it.
  const refused: RefusedName[] = [];
  for (const ev of all(incident, 'EventData')) {
    const own = (meaning: string): string | null =>
      value(kids(ev, 'AdditionalData').find((a) => attr(a, 'meaning') === meaning));
    const name = own(MEANING.refusedName);
    if (name === null || refused.length >= MAX_LIST) continue;
    const dnssec = own(MEANING.dnssec);
    refused.push({
      name,
      reason: own(MEANING.reason) ?? '',
      explanation: value(first(ev, 'Description')) ?? '',
      foundAt: own(MEANING.foundAt),
      aliasTarget: own(MEANING.aliasTarget),
      records: all(ev, 'RelatedDNS')
        .filter((r) => attr(r, 'meaning') === MEANING.caaRecord)
        .map((r) => value(r))
        .filter((r): r is string => r !== null),
      dnssec: dnssec === 'secure' || dnssec === 'insecure' || dnssec === 'bogus' ? dnssec : 'unknown',
    });
  }

  const reasons = byMeaning(MEANING.reason);
  const names = unique([
    ...all(incident, 'Name').map(value), // v2 DomainData/Name (v1 has no DomainData)
    ...all(incident, 'NodeName').map(value), // v1 Node/NodeName (RFC 5070), and broken v2
    ...refused.map((r) => r.name),
  ]);

  let descriptions = kids(incident, 'Description').map((d) => value(d));
  if (descriptions.every((d) => d === null)) descriptions = all(incident, 'Description').map((d) => value(d));
  const descs = descriptions
    .filter((d): d is string => d !== null)
    .slice(0, MAX_DESCRIPTIONS)
    .map((d) => clip(d, MAX_DESCRIPTION));

  let risk: IodefRisk = 'low';
  if (validationSucceeded !== null || reasons.length > 0) {
    risk = riskFrom(validationSucceeded, reasons);
  } else {
    // Another CA's report: the severity it gave the impact (v2 SystemImpact, v1 Impact).
    const severities = [
      ...all(incident, 'SystemImpact'),
      ...all(incident, 'Impact'),
      ...all(incident, 'BusinessImpact'),
    ]
      .map((e) => attr(e, 'severity'))
      .filter((s): s is IodefRisk => s === 'low' || s === 'medium' || s === 'high');
    if (severities.includes('high')) risk = 'high';
    else if (severities.includes('medium')) risk = 'medium';
  }

  const detect = value(first(incident, 'DetectTime')) ?? value(all(incident, 'DetectTime')[0]);

  return {
    format,
    envelope,
    incidentId: value(incidentIdEl),
    incidentIdName: incidentIdEl === undefined ? null : (attr(incidentIdEl, 'name')?.trim() ?? null) || null,
    reportTime: value(first(incident, 'ReportTime')),
    generationTime: value(first(incident, 'GenerationTime')),
    detectTime: detect,
    reporter: unique(reporter.map((r) => (r === '' ? null : r))),
    names,
    descriptions: descs,
    reason: reasons[0] ?? null,
    validationMethod: firstOf(MEANING.validationMethod),
    validationSucceeded,
    accountUri: firstOf(MEANING.accountUri),
    caaRecords: byMeaning(MEANING.caaRecord),
    risk,
    ...(refused.length > 0 ? { refused } : {}),
  };
}

// ---- structural checks ----------------------------------------------------------------------------

type Particle = readonly [local: string, min: number, max: number];
const N = Number.POSITIVE_INFINITY;

/** Check `el`'s children against an xs:sequence of element particles in namespace `ns`. */
function checkSequence(
  el: XmlElement,
  ns: string,
  seq: readonly Particle[],
  where: string,
  problems: string[],
): void {
  const counts = seq.map(() => 0);
  let at = 0;
  for (const child of el.children) {
    const label = child.name.ns === ns ? child.name.local : `{${child.name.ns}}${child.name.local}`;
    const j = child.name.ns === ns ? seq.findIndex((p, k) => k >= at && p[0] === child.name.local) : -1;
    if (j === -1) {
      const known = child.name.ns === ns && seq.some((p) => p[0] === child.name.local);
      problems.push(known ? `${where}: ${label} is out of order` : `${where}: ${label} is not allowed here`);
      continue;
    }
    for (let k = at; k < j; k++) {
      const p = seq[k] as Particle;
      if ((counts[k] as number) < p[1]) problems.push(`${where}: ${p[0]} is missing before ${label}`);
    }
    at = j;
    counts[j] = (counts[j] as number) + 1;
    if ((counts[j] as number) > (seq[j] as Particle)[2]) problems.push(`${where}: too many ${label}`);
  }
  for (let k = at; k < seq.length; k++) {
    const p = seq[k] as Particle;
    if ((counts[k] as number) < p[1]) problems.push(`${where}: ${p[0]} is missing`);
  }
}

function checkEnum(
  el: XmlElement,
  name: string,
  allowed: readonly string[],
  req: boolean,
  where: string,
  problems: string[],
): void {
  const v = attr(el, name);
  if (v === null) {
    if (req) problems.push(`${where}: attribute ${name} is missing`);
  } else if (!allowed.includes(v)) {
    problems.push(`${where}: ${name}="${clip(v, 40)}" is not one of ${allowed.join(', ')}`);
  }
}

const PURPOSE = ['traceback', 'mitigation', 'reporting', 'watch', 'other', 'ext-value'];
const PURPOSE_V1 = ['traceback', 'mitigation', 'reporting', 'other', 'ext-value'];
const SEVERITY = ['low', 'medium', 'high'];
/** Attribute enumerations of the IODEF 2.0 XSD for elements below Incident that certvigil writes. */
const V2_ENUMS: Readonly<Record<string, readonly (readonly [string, readonly string[]])[]>> = {
  Assessment: [['occurrence', ['actual', 'potential']]],
  SystemImpact: [
    ['severity', SEVERITY],
    ['completion', ['failed', 'succeeded']],
    [
      'type',
      [
        'takeover-account',
        'takeover-service',
        'takeover-system',
        'cps-manipulation',
        'cps-damage',
        'availability-data',
        'availability-account',
        'availability-service',
        'availability-system',
        'damaged-system',
        'damaged-data',
        'breach-proprietary',
        'breach-privacy',
        'breach-credential',
        'breach-configuration',
        'integrity-data',
        'integrity-configuration',
        'integrity-hardware',
        'traffic-redirection',
        'monitoring-traffic',
        'monitoring-host',
        'policy',
        'unknown',
        'ext-value',
      ],
    ],
  ],
  System: [['category', ['source', 'target', 'intermediate', 'sensor', 'infrastructure', 'ext-value']]],
  Email: [['type', ['direct', 'hotline', 'ext-value']]],
};
const STATUS = ['new', 'in-progress', 'forwarded', 'resolved', 'future', 'ext-value'];
const RESTRICTION = [
  'public',
  'partner',
  'need-to-know',
  'private',
  'default',
  'white',
  'green',
  'amber',
  'red',
  'ext-value',
];
const CONTACT_ROLE = [
  'creator',
  'reporter',
  'admin',
  'tech',
  'provider',
  'user',
  'billing',
  'legal',
  'abuse',
  'irt',
  'cc',
  'cc-irt',
  'leo',
  'vendor',
  'vendor-support',
  'victim',
  'victim-notified',
  'ext-value',
];
const CONTACT_TYPE = ['person', 'organization', 'ext-value'];
const DTYPE = [
  'boolean',
  'byte',
  'bytes',
  'character',
  'date-time',
  'integer',
  'ntpstamp',
  'portlist',
  'real',
  'string',
  'file',
  'path',
  'frame',
  'packet',
  'ipv4-packet',
  'ipv6-packet',
  'url',
  'csv',
  'winreg',
  'xml',
  'json',
  'ext-value',
];
// xs:dateTime lexical form (RFC 7970 DATETIME).
const DATE_TIME =
  /^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-](0\d|1[0-4]):[0-5]\d)?$/;

/** RFC 7970 §3.2 Incident, in schema order. */
const INCIDENT_V2: readonly Particle[] = [
  ['IncidentID', 1, 1],
  ['AlternativeID', 0, 1],
  ['RelatedActivity', 0, N],
  ['DetectTime', 0, 1],
  ['StartTime', 0, 1],
  ['EndTime', 0, 1],
  ['RecoveryTime', 0, 1],
  ['ReportTime', 0, 1],
  ['GenerationTime', 1, 1],
  ['Description', 0, N],
  ['Discovery', 0, N],
  ['Assessment', 0, N],
  ['Method', 0, N],
  ['Contact', 1, N],
  ['EventData', 0, N],
  ['IndicatorData', 0, 1],
  ['History', 0, 1],
  ['AdditionalData', 0, N],
];

/** RFC 5070 §3.2 Incident (v1), in schema order. */
const INCIDENT_V1: readonly Particle[] = [
  ['IncidentID', 1, 1],
  ['AlternativeID', 0, 1],
  ['RelatedActivity', 0, 1],
  ['DetectTime', 0, 1],
  ['StartTime', 0, 1],
  ['EndTime', 0, 1],
  ['ReportTime', 1, 1],
  ['Description', 0, N],
  ['Assessment', 1, N],
  ['Method', 0, N],
  ['Contact', 1, N],
  ['EventData', 0, N],
  ['History', 0, 1],
  ['AdditionalData', 0, N],
];

function checkDocument(
  doc: XmlElement,
  version: string,
  incidentSeq: readonly Particle[],
  v2: boolean,
): string[] {
  const ns = doc.name.ns;
  const problems: string[] = [];
  const v = attr(doc, 'version');
  if (v === null) problems.push('IODEF-Document: attribute version is missing');
  else if (v !== version) problems.push(`IODEF-Document: version="${clip(v, 20)}" is not ${version}`);
  checkSequence(
    doc,
    ns,
    [
      ['Incident', 1, N],
      ['AdditionalData', 0, N],
    ],
    'IODEF-Document',
    problems,
  );

  const walk = (el: XmlElement): void => {
    if (el.name.ns === ns) {
      if (el.name.local === 'AdditionalData' || el.name.local === 'RelatedDNS') {
        checkEnum(el, 'dtype', DTYPE, true, el.name.local, problems);
        return; // ExtensionType content is ##any: not ours to judge.
      }
      if (el.name.local === 'Contact') {
        checkEnum(el, 'role', CONTACT_ROLE, true, 'Contact', problems);
        checkEnum(el, 'type', CONTACT_TYPE, true, 'Contact', problems);
      }
      // The v2 enumerations certvigil itself writes (document.ts), so a receiver notices when a
      // report gets them wrong.
      if (v2) {
        for (const [attrName, allowed] of V2_ENUMS[el.name.local] ?? []) {
          checkEnum(el, attrName, allowed, false, el.name.local, problems);
        }
      }
    }
    for (const c of el.children) walk(c);
  };

  for (const incident of doc.children.filter((c) => c.name.ns === ns && c.name.local === 'Incident')) {
    checkEnum(incident, 'purpose', v2 ? PURPOSE : PURPOSE_V1, true, 'Incident', problems);
    if (v2) {
      checkEnum(incident, 'status', STATUS, false, 'Incident', problems);
      checkEnum(incident, 'restriction', RESTRICTION, false, 'Incident', problems);
    }
    checkSequence(incident, ns, incidentSeq, 'Incident', problems);
    for (const c of incident.children) {
      if (c.name.ns !== ns) continue;
      if (c.name.local === 'IncidentID' && attr(c, 'name') === null)
        problems.push('IncidentID: attribute name is missing');
      if (
        ['DetectTime', 'StartTime', 'EndTime', 'RecoveryTime', 'ReportTime', 'GenerationTime'].includes(
          c.name.local,
        )
      ) {
        if (!DATE_TIME.test(c.text.trim()))
          problems.push(`${c.name.local}: "${clip(c.text.trim(), 40)}" is not an xs:dateTime`);
      }
    }
    walk(incident);
  }
  for (const a of doc.children) if (a.name.ns === ns && a.name.local === 'AdditionalData') walk(a);
  return problems;
}

const checkV2 = (doc: XmlElement): string[] => checkDocument(doc, '2.00', INCIDENT_V2, true);
const checkV1 = (doc: XmlElement): string[] => checkDocument(doc, '1.00', INCIDENT_V1, false);
