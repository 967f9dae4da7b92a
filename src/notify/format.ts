/**
 * @module notify/format
 * What an alert says, as pure functions of the event: a one-line summary (mail subject, hook
 * SUMMARY), a plain-text body (mail body, hook TEXT_FILENAME) and a JSON form (stdout, webhook,
 * hook files). Every sink formats through here, so an alert reads the same wherever it lands.
 *
 * Written for the person woken at 3 a.m.: the first line of the body says how bad, what, for which
 * name, and what to do; the details below list every field and every reason in full.
 *
 * Certificate fields come from the public logs, i.e. from whoever asked a CA for a certificate, and
 * log URLs, error bodies and inventory file names from elsewhere outside: every string goes through
 * the one sanitiser (src/sanitize.ts) before it reaches a line of text, a JSON payload or a hook's
 * environment, so a crafted name cannot forge lines of the alert (or headers of the mail carrying
 * it), rewrite the reader's terminal (ESC), or reorder what they read (U+202E).
 */
import { createHash } from 'node:crypto';
import { sanitizeDeep, sanitizeText } from '../sanitize.js';
import type { IssuanceEventData, MonitorEvent, Reason } from './types.js';

/** The JSON form: the event as decided, plus the summary and advice every sink shows. */
export type EventJson = MonitorEvent & { summary: string; advice: string };

/** Longest summary line; a mail subject or a chat message beyond this is truncated anyway. */
const MAX_SUMMARY_CHARS = 300;

/**
 * One value on one line, safe to show: C0/C1 controls (CR, LF, TAB, ESC), format characters
 * (bidi overrides such as U+202E, zero-width characters) and the Unicode line and paragraph
 * separators become visible escapes (`\x1B`, `\u202E`): `sanitizeText` of src/sanitize.ts.
 */
export function oneLine(value: string): string {
  return sanitizeText(value);
}

/**
 * The event with every string sanitised (`sanitizeDeep`), for every sink: JSON escapes CR and ESC
 * but not U+202E, and a hook script or a chat bridge may print any field. Idempotent on safe text.
 */
export function sanitizeEvent<E extends MonitorEvent>(event: E): E {
  return sanitizeDeep(event);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `not-in-inventory` → `not in inventory`: reason codes are written to be read. */
function reasonLabel(reason: Reason): string {
  return oneLine(reason.code).replaceAll('-', ' ');
}

/** The name an issuance alert is "for": the first DNS name, else IP address, else watch item. */
function primaryName(event: Extract<MonitorEvent, { type: 'issuance' }>): string {
  const ids = [...event.issuance.dnsNames, ...event.issuance.ipAddresses];
  const first = ids[0] ?? event.watchItems[0] ?? '(no name)';
  const more = ids.length > 1 ? ` (+${ids.length - 1} more)` : '';
  return `${oneLine(first)}${more}`;
}

/**
 * One line, e.g. `CRITICAL unknown certificate for www.example.com from "CN=R11,O=Let's
 * Encrypt,C=US": not in inventory; new key`. No line breaks, at most 300 characters.
 */
export function summaryLine(event: MonitorEvent): string {
  const sev = event.severity.toUpperCase();
  let line: string;
  switch (event.type) {
    case 'issuance': {
      const what = event.known ? 'known certificate' : 'unknown certificate';
      const why = event.reasons.length > 0 ? event.reasons.map(reasonLabel).join('; ') : 'in inventory';
      line = `${sev} ${what} for ${primaryName(event)} from "${oneLine(event.issuance.issuer)}": ${why}`;
      break;
    }
    case 'malformed':
      line = `${sev} unparseable entry ${event.index} in ${oneLine(event.log)}: ${oneLine(event.error)}`;
      break;
    case 'log-misbehaviour':
      line = `${sev} CT log misbehaving: ${oneLine(event.log)}: ${oneLine(event.message)}`;
      break;
    case 'log-health':
      line = `${sev} CT log problem: ${oneLine(event.log)}: ${oneLine(event.message)}`;
      break;
    case 'inventory-health':
      line = `${sev} inventory problem: ${oneLine(event.message)}`;
      break;
    case 'test':
      line = `${sev} test notification: ${oneLine(event.message)}`;
      break;
    case 'heartbeat':
      line = `${sev} certvigil heartbeat: ${oneLine(event.message)}`;
      break;
    case 'iodef-report':
      line = `${sev} CAA iodef ${event.report.kind === 'conflicting-report' ? 'CONFLICTING report' : 'report'}: ${oneLine(event.message)}`;
      break;
  }
  return truncate(line, MAX_SUMMARY_CHARS);
}

/** What the reader should do about the event, in one or two sentences. */
export function advice(event: MonitorEvent): string {
  switch (event.type) {
    case 'issuance': {
      if (event.known) return 'No action needed: it matches your inventory.';
      const serial = oneLine(event.issuance.serial);
      const caa = event.reasons.some((r) => r.code === 'caa-disallowed')
        ? ' The CA issued against your CAA policy: report that to the CA as well.'
        : '';
      return (
        `If nobody in your organisation requested it, revoke it via the CA (serial ${serial}) and check ` +
        `DNS and hosting for interception; if it is yours, add it to the inventory.${caa}`
      );
    }
    case 'malformed':
      return (
        'certvigil cannot tell whether this entry matches your watch list: look at the entry by hand ' +
        '(e.g. on crt.sh) and report the parse error if the certificate is valid.'
      );
    case 'log-misbehaviour':
      return (
        'Keep the evidence below and report it to the log operator and the browser CT programmes; ' +
        'do not trust this log until it is explained.'
      );
    case 'log-health':
      return 'Certificates from this log may be missed or late until this clears: check connectivity and the log status.';
    case 'inventory-health':
      return (
        'Certificates your ACME clients obtain meanwhile are not known to certvigil and will be alerted as ' +
        'unknown: restore the path (mount, permissions) or fix the configured inventory.'
      );
    case 'test':
      return 'No action needed: this is a test of the alert path.';
    case 'heartbeat':
      return (
        'No action needed: the monitor is alive. If this message stops arriving, check the monitor ' +
        '(`certvigil check monitor`).'
      );
    case 'iodef-report':
      return (
        'A CA refused a certificate for your names because of your CAA records: if nobody in your ' +
        'organisation asked for it, find out who did; if domain validation had succeeded, check DNS and hosting for interception.'
      );
  }
}

/** The first line of a body: how bad, what, for which name, and what to do. */
function headline(event: MonitorEvent): string {
  const sev = event.severity.toUpperCase();
  switch (event.type) {
    case 'issuance': {
      const what = event.known ? 'known certificate' : 'unknown certificate';
      return `${sev}: ${what} for ${primaryName(event)}. ${advice(event)}`;
    }
    case 'malformed':
      return `${sev}: unparseable entry ${event.index} in ${oneLine(event.log)}. ${advice(event)}`;
    case 'log-misbehaviour':
      return `${sev}: CT log ${oneLine(event.log)} is misbehaving. ${advice(event)}`;
    case 'log-health':
      return `${sev}: CT log ${oneLine(event.log)} has a problem. ${advice(event)}`;
    case 'inventory-health':
      return `${sev}: inventory path ${oneLine(event.path)} cannot be read. ${advice(event)}`;
    case 'test':
      return `${sev}: test notification. ${advice(event)}`;
    case 'heartbeat':
      return `${sev}: certvigil heartbeat. ${advice(event)}`;
    case 'iodef-report':
      return `${sev}: CAA iodef report received. ${advice(event)}`;
  }
}

/** `label: value` with aligned values; list values one per line under the label. */
function field(label: string, value: string | readonly string[]): string {
  const pad = `  ${`${label}:`.padEnd(16)}`;
  if (typeof value === 'string') return `${pad}${oneLine(value)}`;
  if (value.length === 0) return `${pad}(none)`;
  return value.map((v, i) => `${i === 0 ? pad : ' '.repeat(pad.length)}${oneLine(v)}`).join('\n');
}

function issuanceLines(i: IssuanceEventData): string[] {
  const lines = [field('DNS names', i.dnsNames), field('IP addresses', i.ipAddresses)];
  if (i.subject !== undefined) lines.push(field('Subject', i.subject));
  lines.push(
    field('Issuer', i.issuer),
    field('Serial', i.serial),
    field('Not before', i.notBefore),
    field('Not after', i.notAfter),
    field('Key type', i.keyType),
    field('SPKI SHA-256', i.spkiSha256),
    field('TBS SHA-256', i.tbsSha256),
    field('Cert SHA-256', i.certSha256s),
    field(
      'Logged in',
      i.entries.map((e) => `${e.log} entry ${e.index} (${e.type}, logged ${isoOrRaw(e.timestamp)})`),
    ),
    field(
      'crt.sh',
      i.certSha256s.map((h) => `https://crt.sh/?sha256=${encodeURIComponent(h)}`),
    ),
    field('PEM', i.certificateDerBase64 !== undefined ? 'attached / in the hook files' : 'not available'),
  );
  if (i.chainDerBase64 !== undefined && i.chainDerBase64.length > 0)
    lines.push(
      field('Chain', `${i.chainDerBase64.length} issuer certificates from the log entry (in CERT_FILENAME)`),
    );
  return lines;
}

function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/**
 * The plain-text body: headline, summary, reasons with their messages, then every field. Lines end
 * in `\n`; the text ends with one.
 */
export function formatText(event: MonitorEvent): string {
  const out = [headline(event), '', `Summary: ${summaryLine(event)}`, ''];
  switch (event.type) {
    case 'issuance':
      out.push(`Reasons (${event.reasons.length}):`);
      if (event.reasons.length === 0) out.push('  (none: the certificate is known)');
      for (const r of event.reasons) {
        out.push(`  - [${r.severity}] ${oneLine(r.code)}: ${oneLine(r.message)}`);
      }
      out.push(
        '',
        'Certificate:',
        field('Severity', event.severity),
        field('Known', event.known ? 'yes (in inventory)' : 'no'),
        field('Watch items', event.watchItems),
        ...issuanceLines(event.issuance),
      );
      break;
    case 'malformed':
      out.push(
        'Entry:',
        field('Severity', event.severity),
        field('Log', event.log),
        field('Index', String(event.index)),
        field('Error', event.error),
      );
      if (event.leafHash !== undefined) out.push(field('Leaf hash', event.leafHash));
      break;
    case 'log-misbehaviour':
      out.push(
        'Log:',
        field('Severity', event.severity),
        field('Log', event.log),
        field('Message', event.message),
        '',
        'Evidence (JSON):',
        sanitizeText(safeStringify(event.evidence, 2), { keepNewlines: true }),
      );
      break;
    case 'log-health':
      out.push(
        'Log:',
        field('Severity', event.severity),
        field('Log', event.log),
        field('Message', event.message),
      );
      break;
    case 'inventory-health':
      out.push(
        'Inventory:',
        field('Severity', event.severity),
        field('Path', event.path),
        field('Message', event.message),
      );
      break;
    case 'test':
      out.push(field('Severity', event.severity), field('Message', event.message));
      break;
    case 'heartbeat':
      out.push(field('Severity', event.severity), field('At', event.at), field('Message', event.message));
      break;
    case 'iodef-report':
      out.push(
        'Report:',
        field('Severity', event.severity),
        field('Message', event.message),
        field('Stored as', `#${event.report.id}`),
        field('Kind', event.report.kind ?? 'report'),
        field(
          'Conflicts with',
          (event.report.conflictsWith ?? []).map((id) => `#${id}`),
        ),
        field('Channel', event.report.channel),
        field('Sender', event.report.sender),
        field('Incident ID', event.report.incidentId ?? '(none)'),
        field('Names', event.report.names),
        field('Schema-valid', event.report.schemaValid ? 'yes' : 'no'),
      );
      break;
  }
  return `${out.join('\n')}\n`;
}

/** The JSON form (an object; `JSON.stringify` it). Field order: type, severity, summary, advice, rest. */
export function eventJson(event: MonitorEvent): EventJson {
  // Object.assign keeps the first object's key order for the keys the event repeats.
  return Object.assign(
    { type: event.type, severity: event.severity, summary: summaryLine(event), advice: advice(event) },
    sanitizeEvent(event),
  );
}

/**
 * `JSON.stringify` that never throws: `evidence` is `unknown`, and a BigInt or a cycle in it must
 * not stop the alert. Such values become strings / `"[circular]"`.
 */
export function safeStringify(value: unknown, indent?: number): string {
  // Cycle = an object among its own ancestors; the same object in two places is not one. The
  // replacer's `this` is the holder of `v`, so the ancestor stack is cut back to it first.
  const ancestors: unknown[] = [];
  const text = JSON.stringify(
    value,
    function (this: unknown, _key: string, v: unknown): unknown {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v !== 'object' || v === null) return v;
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(v)) return '[circular]';
      ancestors.push(v);
      return v;
    },
    indent,
  ) as string | undefined;
  return text ?? 'null';
}

/**
 * A stable id for the event: the same event gives the same id on every retry, so receivers can
 * drop duplicates (mail Message-ID, webhook Idempotency-Key) when a delivery did arrive but its
 * acknowledgement was lost and the outbox sent it again.
 */
export function eventId(event: MonitorEvent): string {
  return createHash('sha256').update(safeStringify(event)).digest('hex').slice(0, 32);
}

/** RFC 7468 §2 PEM of a DER certificate given in base64, 64 characters per line; null if empty. */
export function pemFromDerBase64(derBase64: string): string | null {
  // Decode and re-encode: normalises whitespace or line breaks the producer may have left in.
  const der = Buffer.from(derBase64, 'base64');
  if (der.length === 0) return null;
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
