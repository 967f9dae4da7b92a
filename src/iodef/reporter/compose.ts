/**
 * @module iodef/reporter/compose
 * What a CAA iodef report (RFC 8659 §4.4) says, for each channel; pure text, no I/O.
 *
 * mailto: (RFC 8659 §4.4, RFC 6068): a short plain-text message for the human who reads it —
 * which names were refused, by whom, where the records were found, why, how risky, what to do —
 * with the IODEF document (RFC 7970) attached. Media type of the attachment: `application/xml`
 * (RFC 7303). RFC 7970 §10 registers the IODEF XML namespace and schema but, to our knowledge, no
 * media type, and `application/iodef+xml` is not in IANA's media-type registry (RFC 6838 §3.4:
 * unregistered types are for private use) — checked from the RFCs as we know them, not re-verified
 * against the live registry. So the generic XML type with a `.xml` file name is the interoperable
 * choice; receivers recognise the document by its namespace. Message-ID:
 * `<iodef.INCIDENT-ID@FROM-DOMAIN>` — fixed per report, so a resend after a crash is the same
 * message (RFC 5322 §3.6.4) and mail clients drop the copy. `Auto-Submitted: auto-generated`
 * (RFC 3834 §5) keeps vacation responders quiet.
 *
 * https: RFC 6546 §3 carries RID messages, so the body is a RID Report message (RFC 6545: a `RID`
 * root in the iodef-rid-2.0 namespace with a `RIDPolicy MsgType="Report"`) wrapping the IODEF
 * document, rather than the bare document: a RID server dispatches on `MsgType`, and a receiver
 * that wants the IODEF document finds it as the `IODEF-Document` child of the root. The envelope is
 * deliberately minimal and has NOT been validated against the RID schema.
 */
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { IodefOutboxRecord } from '../../store/index.js';
import { riskFrom } from '../document.js';
import { parseXml, attr } from '../xml.js';
import type { XmlElement } from '../xml.js';

/** `<iodef.INCIDENT@domain>`: the same for every attempt of one report. */
export function reportMessageId(incidentId: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
  return `<iodef.${incidentId.replace(/[^A-Za-z0-9.-]/g, '-')}@${domain}>`;
}

// ---- the mail text ------------------------------------------------------------------------------

interface DocumentFacts {
  descriptions: string[];
  severity: string | null;
  records: string[];
  caName: string | null;
  validationSucceeded: boolean | null;
}

function walk(el: XmlElement, visit: (e: XmlElement) => void): void {
  visit(el);
  for (const c of el.children) walk(c, visit);
}

/** What the mail text repeats from the document (our own document; a parse failure gives nothing). */
function documentFacts(document: string): DocumentFacts {
  const facts: DocumentFacts = {
    descriptions: [],
    severity: null,
    records: [],
    caName: null,
    validationSucceeded: null,
  };
  try {
    walk(parseXml(document), (e) => {
      const local = e.name.local;
      if (local === 'Description' && facts.descriptions.length < 20) facts.descriptions.push(e.text.trim());
      else if (local === 'SystemImpact') facts.severity ??= attr(e, 'severity');
      else if (local === 'RelatedDNS' && attr(e, 'meaning') === 'caa-record')
        facts.records.push(e.text.trim());
      else if (local === 'ContactName') facts.caName ??= e.text.trim();
      else if (local === 'AdditionalData' && attr(e, 'meaning') === 'acme-validation-succeeded')
        facts.validationSucceeded = e.text.trim() === 'true';
    });
  } catch {
    // The attachment still carries everything; the text just says less.
  }
  return facts;
}

const ADVICE: Record<string, string> = {
  'issuer-not-authorized':
    'A CA your CAA records do not authorise was asked for a certificate. If you did not ask, find out who did: it may be a forgotten service, or someone who can answer domain-validation challenges for your names. If you meant to use this CA, add an "issue" record for it.',
  'issuance-forbidden':
    'Your CAA records forbid all issuance (issue ";"), and a certificate was requested anyway.',
  'account-uri-missing':
    'Your CAA records bind issuance to ACME accounts (RFC 8657 accounturi); this request came from none of them.',
  'account-uri-mismatch':
    'Your CAA records bind issuance to ACME accounts (RFC 8657 accounturi); this request came from another account of the authorised CA. Check who holds accounts at that CA.',
  'validation-method-missing':
    'Your CAA records restrict validation methods (RFC 8657 validationmethods); the request named none.',
  'validation-method-not-allowed':
    'Your CAA records restrict validation methods (RFC 8657 validationmethods); the request used another one.',
  'critical-unknown-property':
    'Your CAA record set has a critical property the CA does not understand, so no CA may issue. Check the records.',
  'malformed-records': 'Your CAA record set could not be parsed, so the CA refused. Check the records.',
};

/** The human-readable body of the mail. */
export function reportText(report: IodefOutboxRecord): string {
  const facts = documentFacts(report.document);
  const reasons = report.reason.split(',');
  const risk = facts.severity ?? riskFrom(facts.validationSucceeded, reasons);
  const lines = [
    `${facts.caName ?? 'A certificate authority'} refused to issue a certificate because of your CAA records (RFC 8659).`,
    '',
    `Names refused: ${report.names.join(', ')}`,
    `Reason:        ${report.reason}`,
    `Risk:          ${risk}${risk === 'high' ? " - domain validation had succeeded: whoever asked controlled these names' DNS or traffic" : ''}`,
    `Refused at:    ${report.createdAt}`,
    `Incident id:   ${report.incidentId}`,
  ];
  if (facts.records.length > 0)
    lines.push('', 'CAA records that applied:', ...facts.records.map((r) => `  ${r}`));
  if (facts.descriptions.length > 0) lines.push('', 'Details:', ...facts.descriptions.map((d) => `  ${d}`));
  lines.push('', 'What to do:');
  for (const r of reasons)
    lines.push(
      `  ${ADVICE[r] ?? 'Check your CAA records and who is asking for certificates for these names.'}`,
    );
  lines.push(
    '',
    `You get this because the CAA record set of these names has an iodef property pointing to ${report.recipient}.`,
    'The IODEF report (RFC 7970) is attached. Remove the iodef property to stop these reports.',
  );
  return `${lines.join('\n')}\n`;
}

/** The whole mail for one report to `to` (a bare address from the mailto: URI). */
export function reportMail(report: IodefOutboxRecord, from: string, to: string): Mail.Options {
  const subject = `CAA refused a certificate for ${report.names.join(', ')} (${report.reason})`;
  return {
    from,
    to,
    subject: subject.length > 180 ? `${subject.slice(0, 177)}...` : subject,
    text: reportText(report),
    messageId: reportMessageId(report.incidentId, from),
    headers: { 'Auto-Submitted': 'auto-generated', 'Iodef-Incident-Id': report.incidentId },
    attachments: [
      {
        filename: `iodef-${report.incidentId}.xml`,
        content: report.document,
        contentType: 'application/xml; charset=utf-8',
      },
    ],
  };
}

// ---- the https body -----------------------------------------------------------------------------

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The RFC 6545 RID Report message wrapping the IODEF document (see the module comment). */
export function ridReportMessage(report: Pick<IodefOutboxRecord, 'document' | 'incidentId'>): string {
  const body = report.document.replace(/^\uFEFF?<\?xml[^?]*\?>\s*/, '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<iodef-rid:RID xmlns:iodef-rid="urn:ietf:params:xml:ns:iodef-rid-2.0" xmlns:iodef="urn:ietf:params:xml:ns:iodef-2.0">',
    '  <iodef-rid:RIDPolicy MsgType="Report" MsgDestination="RIDSystem">',
    '    <iodef-rid:PolicyRegion region="PeerToPeer"/>',
    '    <iodef-rid:TrafficType type="Other"/>',
    `    <iodef:IncidentID name="certvigil">${escapeXml(report.incidentId)}</iodef:IncidentID>`,
    '  </iodef-rid:RIDPolicy>',
    body.trimEnd(),
    '</iodef-rid:RID>',
    '',
  ].join('\n');
}
