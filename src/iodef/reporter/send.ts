/**
 * @module iodef/reporter/send
 * Delivers the queued CAA iodef reports (RFC 8659 §4.4) from the store's outbox: each due report
 * is sent once, then marked sent, or failed with an exponential, jittered retry time (policy.ts
 * `nextAttemptAt`), or given up after `maxAttempts` or on a permanent refusal. A crash between
 * the delivery and the mark leaves the report due, so it is sent again: at-least-once. Both
 * channels make the copy recognisable: the mail keeps its Message-ID, the POST its incident id.
 *
 * mailto: (RFC 8659 §4.4, RFC 6068): a short plain-text message for the human who reads it —
 * which names were refused, by whom, where the records were found, why, how risky, what to do —
 * with the IODEF document attached. Media type of the attachment: `application/xml` (RFC 7303).
 * RFC 7970 §10 registers the IODEF XML namespace and schema but, to our knowledge, no media type,
 * and `application/iodef+xml` is not in IANA's media-type registry (RFC 6838 §3.4: unregistered
 * types are for private use) — checked from the RFCs as we know them, not re-verified against the
 * live registry. So the generic XML type with a `.xml` file name is the interoperable choice;
 * receivers recognise the document by its namespace. Message-ID: `<iodef.INCIDENT-ID@FROM-DOMAIN>`
 * — fixed per report, so a resend after a crash is the same message (RFC 5322 §3.6.4) and mail
 * clients drop the copy. `Auto-Submitted: auto-generated` (RFC 3834 §5) keeps vacation responders
 * quiet.
 *
 * https: RFC 6546 §3: an HTTP POST over TLS carrying a RID message, `Content-Type:
 * application/rid+xml`. The body is a RID Report message (RFC 6545: a `RID` root in the
 * iodef-rid-2.0 namespace with a `RIDPolicy MsgType="Report"`) wrapping the IODEF document, rather
 * than the bare document, because RFC 6546 transports RID messages and a RID server dispatches on
 * `MsgType`; a receiver that wants the IODEF document finds it as the `IODEF-Document` child of the
 * root. The envelope is deliberately minimal and has NOT been validated against the RID schema.
 * Any 2xx counts as delivered (a RID server answers a Report with a success status, with or
 * without a RID reply body); 3xx is not followed (a redirect would be a second, unchecked
 * destination) and counts as a permanent failure; 408, 429 and 5xx are retried; other 4xx are
 * permanent. The incident id also goes in `Iodef-Incident-Id` and `Idempotency-Key` headers, so a
 * resend is recognisable without parsing the body.
 *
 * SSRF (the iodef URL is whatever the zone publishes, RFC 8659 §4.4): the host is resolved here, every
 * address is checked (address.ts; IPv4, IPv6, IPv4-mapped/embedded) and the connection goes to
 * the checked address through an undici `Agent` whose `connect.lookup` returns only that address
 * — TLS SNI and `Host` stay the URL's host, and a DNS answer that changes between check and
 * connect (rebinding) is never consulted. If any address is non-public, the report is given up
 * (unless `allowPrivateAddresses`). The response body is read up to `maxResponseBytes`; the whole
 * exchange is bounded by `httpTimeoutMs`.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { Agent, request } from 'undici';
import { CertvigilError } from '../../errors.js';
import type { IodefOutboxRecord, Store } from '../../store/types.js';
import { riskFrom } from '../document.js';
import { parseXml, attr } from '../xml.js';
import type { XmlElement } from '../xml.js';
import { nonPublicAddressKind } from './address.js';
import { nextAttemptAt, optedOut } from './policy.js';
import type { ReporterPolicy } from './policy.js';
import { parseIodefValue } from './targets.js';

/** Resolves a host name to all its addresses (default: the system resolver, `dns.lookup`). */
export type HostResolver = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface DrainOptions {
  policy: ReporterPolicy;
  /** Mail `From` (the CA's reporting address); its domain is the Message-ID's right-hand side. */
  from: string;
  /** nodemailer SMTP transport options; needed only when a mailto report is due. */
  smtp?: SMTPTransport.Options;
  https?: {
    /** Extra trust anchors (PEM) for the endpoints' TLS certificates; default: Node's roots. */
    ca?: string | Buffer | (string | Buffer)[];
    /** Default: `dns.lookup(host, { all: true })`. */
    resolve?: HostResolver;
    userAgent?: string;
  };
  /** The drain's clock: what is due, and the base of retry times. Default: now. */
  now?: Date;
  signal?: AbortSignal;
  /** Reports fetched per round; default 100. */
  batchSize?: number;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

export type DeliveryStatus = 'sent' | 'retry' | 'gave-up';

export interface DeliveryOutcome {
  id: number;
  recipient: string;
  incidentId: string;
  status: DeliveryStatus;
  /** The failure, when not sent. */
  error: string | null;
  nextAttemptAt: string | null;
}

export interface DrainResult {
  sent: number;
  retry: number;
  gaveUp: number;
  deliveries: DeliveryOutcome[];
}

/** A delivery failure; `permanent` ones are given up at once. */
export class DeliveryError extends CertvigilError {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super('IODEF_DELIVERY_FAILED', message);
    this.name = 'DeliveryError';
  }
}

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

// ---- delivery -----------------------------------------------------------------------------------

const defaultResolve: HostResolver = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Resolves and checks the host; the one address to connect to, or a permanent refusal. */
export async function vetHost(
  host: string,
  policy: Pick<ReporterPolicy, 'allowPrivateAddresses'>,
  resolve: HostResolver = defaultResolve,
): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const literal = net.isIP(bare);
  let addresses: { address: string; family: 4 | 6 }[];
  if (literal !== 0) addresses = [{ address: bare, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(bare);
    } catch (cause) {
      throw new DeliveryError(`cannot resolve ${bare}: ${(cause as Error).message}`, false);
    }
  }
  if (addresses.length === 0) throw new DeliveryError(`${bare} has no addresses`, false);
  if (!policy.allowPrivateAddresses)
    for (const a of addresses) {
      const kind = nonPublicAddressKind(a.address);
      if (kind !== null)
        throw new DeliveryError(
          `refused: ${bare} resolves to ${a.address}, a ${kind} address (SSRF guard)`,
          true,
        );
    }
  return addresses[0] as { address: string; family: 4 | 6 };
}

async function postReport(report: IodefOutboxRecord, options: DrainOptions): Promise<void> {
  const { policy } = options;
  const url = new URL(report.recipient);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw new DeliveryError(`refused: ${url.protocol} is not allowed`, true);
  const vetted = await vetHost(url.hostname, policy, options.https?.resolve);
  const pinnedLookup = (
    _hostname: string,
    opts: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    if (opts.all === true) callback(null, [vetted]);
    else callback(null, vetted.address, vetted.family);
  };
  const timeout = AbortSignal.timeout(policy.httpTimeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const agent = new Agent({
    connect: { ca: options.https?.ca, lookup: pinnedLookup, timeout: policy.httpTimeoutMs },
    headersTimeout: policy.httpTimeoutMs,
    bodyTimeout: policy.httpTimeoutMs,
  });
  try {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'POST',
        dispatcher: agent,
        maxRedirections: 0,
        signal,
        headers: {
          'content-type': 'application/rid+xml; charset=utf-8',
          'user-agent': options.https?.userAgent ?? 'certvigil-iodef-reporter',
          'iodef-incident-id': report.incidentId,
          'idempotency-key': `"${report.incidentId}"`,
        },
        body: ridReportMessage(report),
      });
    } catch (cause) {
      throw new DeliveryError(`POST ${url.href}: ${(cause as Error).message}`, false);
    }
    let read = 0;
    try {
      for await (const chunk of res.body) {
        read += (chunk as Buffer).length;
        if (read > policy.maxResponseBytes) break;
      }
    } catch {
      // The status is what counts; a broken or oversized body changes nothing.
    } finally {
      res.body.destroy();
    }
    const s = res.statusCode;
    if (s >= 200 && s < 300) return;
    if (s >= 300 && s < 400) throw new DeliveryError(`POST ${url.href}: ${s} redirect not followed`, true);
    throw new DeliveryError(`POST ${url.href}: HTTP ${s}`, !(s === 408 || s === 429 || s >= 500));
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

function smtpPermanent(cause: unknown): boolean {
  const code = (cause as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

async function mailReport(
  report: IodefOutboxRecord,
  options: DrainOptions,
  transport: () => nodemailer.Transporter<SMTPTransport.SentMessageInfo>,
): Promise<void> {
  const target = parseIodefValue(report.recipient);
  if (target.address === null) throw new DeliveryError(`not a mail address: ${report.recipient}`, true);
  const subject = `CAA refused a certificate for ${report.names.join(', ')} (${report.reason})`;
  let info: SMTPTransport.SentMessageInfo;
  try {
    info = await transport().sendMail({
      from: options.from,
      to: target.address,
      subject: subject.length > 180 ? `${subject.slice(0, 177)}...` : subject,
      text: reportText(report),
      messageId: reportMessageId(report.incidentId, options.from),
      headers: { 'Auto-Submitted': 'auto-generated', 'Iodef-Incident-Id': report.incidentId },
      attachments: [
        {
          filename: `iodef-${report.incidentId}.xml`,
          content: report.document,
          contentType: 'application/xml; charset=utf-8',
        },
      ],
    });
  } catch (cause) {
    throw new DeliveryError(`mail to ${target.address}: ${(cause as Error).message}`, smtpPermanent(cause));
  }
  if (info.rejected.length > 0) throw new DeliveryError(`mail to ${target.address} refused`, true);
}

/** Re-checks a queued report against the policy as it is now (opt-outs arrive after enqueue). */
function refusalNow(report: IodefOutboxRecord, policy: ReporterPolicy): string | null {
  const target = parseIodefValue(report.recipient);
  if (target.recipient === null || target.host === null) return `unusable recipient ${report.recipient}`;
  const opt = optedOut(
    { recipient: target.recipient, host: target.host, address: target.address },
    policy.optOut,
  );
  if (opt !== null) return `the recipient opted out (${opt})`;
  if (target.insecure && !policy.allowHttp) return 'http: is not allowed';
  return null;
}

/** Sends every report due at `now`; returns what happened to each. */
export async function drainOutbox(
  store: Pick<Store, 'dueIodefReports' | 'markIodefReportSent' | 'markIodefReportFailed'>,
  options: DrainOptions,
): Promise<DrainResult> {
  const now = options.now ?? new Date();
  const at = now.toISOString();
  const batch = options.batchSize ?? 100;
  const result: DrainResult = { sent: 0, retry: 0, gaveUp: 0, deliveries: [] };
  const done = new Set<number>();
  const aborted = (): boolean => options.signal?.aborted === true;
  let mailer: nodemailer.Transporter<SMTPTransport.SentMessageInfo> | undefined;
  const transport = (): nodemailer.Transporter<SMTPTransport.SentMessageInfo> => {
    if (options.smtp === undefined)
      throw new DeliveryError('no SMTP server configured for mailto: reports', false);
    mailer ??= nodemailer.createTransport(options.smtp);
    return mailer;
  };
  try {
    for (;;) {
      if (aborted()) break;
      const due = (await store.dueIodefReports(at, batch)).filter((r) => !done.has(r.id));
      if (due.length === 0) break;
      for (const report of due) {
        if (aborted()) break;
        done.add(report.id);
        let error: DeliveryError | null = null;
        const refusal = refusalNow(report, options.policy);
        if (refusal !== null) error = new DeliveryError(refusal, true);
        else
          try {
            if (report.channel === 'mailto') await mailReport(report, options, transport);
            else await postReport(report, options);
          } catch (cause) {
            error = cause instanceof DeliveryError ? cause : new DeliveryError(String(cause), false);
          }
        const base = { id: report.id, recipient: report.recipient, incidentId: report.incidentId };
        if (error === null) {
          await store.markIodefReportSent(report.id, new Date().toISOString());
          result.sent++;
          result.deliveries.push({ ...base, status: 'sent', error: null, nextAttemptAt: null });
          continue;
        }
        const next = error.permanent
          ? null
          : nextAttemptAt(report.attempts + 1, options.policy, now, options.random);
        await store.markIodefReportFailed(report.id, error.message, next);
        if (next === null) result.gaveUp++;
        else result.retry++;
        result.deliveries.push({
          ...base,
          status: next === null ? 'gave-up' : 'retry',
          error: error.message,
          nextAttemptAt: next,
        });
      }
    }
  } finally {
    mailer?.close();
  }
  return result;
}
