/**
 * @module iodef/receiver/smtp
 * The mail end of a CAA `iodef "mailto:…"` property (RFC 8659 §4.4: the CA sends the IODEF
 * document by email). Two intakes, both feeding `acceptReport`:
 *
 * - `startSmtpReceiver`: an SMTP server (the `smtp-server` package) for the report address's MX.
 *   No AUTH (anyone may report, RFC 8659 §4.4), STARTTLS only when a certificate is given
 *   (RFC 3207), a message size limit advertised with SIZE (RFC 1870) and enforced on the data, a
 *   per-client-address token bucket (451 4.7.1, the sender's MTA retries later), a client cap and
 *   an idle timeout. No reverse DNS lookups: a hostile client must not make us query anything.
 * - `readMaildir` / `readMbox`: for owners who receive the reports in an ordinary mailbox. Maildir
 *   messages are taken from `new/` and moved to `cur/` with the Seen flag (the Maildir convention),
 *   so each is processed once; a message whose store failed stays in `new/` for the next run.
 *
 * The IODEF document is taken from every attachment of an XML type (RFC 7970 §8 registers
 * `application/xml`-family use; CAs also send `text/xml` or a `.xml` file name), else from a text
 * body that is itself an XML document. `mailparser` parses the MIME; the XML goes to iodef/parse.ts.
 */
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { AddressObject, ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { CertvigilError } from '../../errors.js';
import type { Store } from '../../store/types.js';
import { acceptReport, oneLine } from './intake.js';
import type { IntakeResult, ReportAlerter, ReportChannel } from './intake.js';
import { TokenBucketLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';

const XML_TYPES = new Set(['application/xml', 'text/xml', 'application/rid+xml', 'application/iodef+xml']);
const DEFAULT_MAX_MESSAGE = 1024 * 1024;

/** The outcome of one mail: one intake result per IODEF document found in it. */
export interface MailOutcome {
  sender: string;
  results: IntakeResult[];
  /** Set when the mail carried no IODEF document at all. */
  noDocument?: true;
}

export interface ExtractedDocument {
  bytes: Buffer;
  /** Attachment file name, or `body`. */
  from: string;
}

/** The IODEF candidates of a parsed mail: XML attachments, else an XML text body. */
export function iodefDocuments(mail: ParsedMail, maxDocuments = 10): ExtractedDocument[] {
  const found: ExtractedDocument[] = [];
  for (const a of mail.attachments) {
    const type = a.contentType.toLowerCase();
    const name = a.filename ?? '';
    if (XML_TYPES.has(type) || type.endsWith('+xml') || /\.xml$/i.test(name)) {
      found.push({ bytes: a.content, from: name === '' ? type : name });
    }
    if (found.length >= maxDocuments) return found;
  }
  if (found.length === 0 && typeof mail.text === 'string') {
    const text = mail.text.trim();
    if (text.startsWith('<?xml') || /^<(?:\w+:)?(?:IODEF-Document|RID)\b/.test(text)) {
      found.push({ bytes: Buffer.from(text, 'utf8'), from: 'body' });
    }
  }
  return found;
}

/** Parses one raw message and runs each IODEF document in it through the intake. */
export async function acceptMail(
  store: Pick<Store, 'storeReceivedIodef'>,
  alert: ReportAlerter,
  raw: Buffer,
  meta: { envelopeSender?: string; channel: ReportChannel; receivedAt?: Date | string; peer?: string },
): Promise<MailOutcome> {
  const mail = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
    maxHtmlLengthToParse: 64 * 1024,
  });
  const from = meta.envelopeSender ?? firstAddress(mail.from) ?? 'unknown sender';
  const sender = oneLine(meta.peer === undefined ? from : `${from} via ${meta.peer}`, 300);
  const docs = iodefDocuments(mail);
  if (docs.length === 0) return { sender, results: [], noDocument: true };
  const results: IntakeResult[] = [];
  for (const doc of docs) {
    const input: Parameters<typeof acceptReport>[2] = { bytes: doc.bytes, sender, channel: meta.channel };
    if (meta.receivedAt !== undefined) input.receivedAt = meta.receivedAt;
    // The parser's own limits (256 KiB, depth 64) apply to each document, whatever the mail size.
    results.push(await acceptReport(store, alert, input));
  }
  return { sender, results };
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  for (const obj of list)
    for (const a of obj.value) if (a.address !== undefined && a.address !== '') return a.address;
  return undefined;
}

export interface SmtpReceiverOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 for any free port. */
  port: number;
  store: Pick<Store, 'storeReceivedIodef'>;
  alert?: ReportAlerter;
  /** STARTTLS with this certificate; without it STARTTLS is not offered. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Name in the greeting. Default `certvigil-iodef`. */
  name?: string;
  /** Largest message, bytes (SIZE, RFC 1870). Default 1 MiB. */
  maxMessageBytes?: number;
  rate?: RateLimitOptions;
  /** Default 20. */
  maxClients?: number;
  /** Idle socket timeout. Default 30 s. */
  socketTimeoutMs?: number;
  /** Every message's outcome, for logs; must not throw. */
  onMessage?: (outcome: MailOutcome | { sender: string; error: string }) => void;
}

export interface SmtpReceiver {
  port: number;
  close(): Promise<void>;
  readonly limiter: TokenBucketLimiter;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpReceiver(options: SmtpReceiverOptions): Promise<SmtpReceiver> {
  const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  const limiter = new TokenBucketLimiter(options.rate);
  const alert = options.alert ?? null;
  const host = options.host ?? '127.0.0.1';
  const report = (o: MailOutcome | { sender: string; error: string }): void => {
    try {
      options.onMessage?.(o);
    } catch {
      // logging must not break intake
    }
  };
  const peerOf = (session: SMTPServerSession): string =>
    session.remoteAddress.startsWith('::ffff:') ? session.remoteAddress.slice(7) : session.remoteAddress;

  const server = new SMTPServer({
    name: options.name ?? 'certvigil-iodef',
    banner: 'CAA iodef report intake (RFC 8659)',
    size: maxMessage,
    authOptional: true,
    disabledCommands: options.tls === undefined ? ['AUTH', 'STARTTLS'] : ['AUTH'],
    ...(options.tls === undefined
      ? {}
      : { key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' as const }),
    disableReverseLookup: true,
    maxClients: options.maxClients ?? 20,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    closeTimeout: 1_000,
    logger: false,
    onMailFrom(_address, session, callback) {
      const rate = limiter.take(`addr:${peerOf(session)}`);
      if (!rate.allowed) {
        callback(
          smtpError(
            451,
            `4.7.1 too many reports from ${peerOf(session)}, try again in ${rate.retryAfterSeconds} s`,
          ),
        );
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total <= maxMessage) chunks.push(chunk);
        else chunks.length = 0; // keep reading to the end of DATA, keep nothing
      });
      stream.on('error', () => undefined);
      stream.on('end', () => {
        if (stream.sizeExceeded || total > maxMessage) {
          report({ sender: peerOf(session), error: `message over ${maxMessage} bytes` });
          callback(smtpError(552, `5.3.4 message over ${maxMessage} bytes`));
          return;
        }
        const mailFrom = session.envelope.mailFrom;
        const meta: Parameters<typeof acceptMail>[3] = { channel: 'smtp', peer: peerOf(session) };
        if (mailFrom !== false && mailFrom.address !== '') meta.envelopeSender = mailFrom.address;
        acceptMail(options.store, alert, Buffer.concat(chunks, total), meta).then(
          (outcome) => {
            report(outcome);
            callback(...smtpVerdict(outcome));
          },
          (err: unknown) => {
            // The store (or the MIME parser) failed: a temporary failure, the MTA keeps the mail.
            report({ sender: peerOf(session), error: err instanceof Error ? err.message : String(err) });
            callback(smtpError(451, '4.3.0 cannot store the report now, try again later'));
          },
        );
      });
    },
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(
        new CertvigilError(
          'CONFIG_INVALID',
          `iodef SMTP receiver cannot listen on ${host}:${options.port}: ${err.message}`,
          { cause: err },
        ),
      );
    server.server.once('error', onError);
    server.listen(options.port, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    limiter,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** 250 when at least one document was stored or already known; 550 when none was acceptable. */
function smtpVerdict(outcome: MailOutcome): [Error | null, string?] {
  if (outcome.noDocument === true) return [smtpError(550, '5.6.0 no IODEF document found in the message')];
  const ok = outcome.results.filter((r) => r.status !== 'rejected');
  if (ok.length > 0) {
    return [
      null,
      ok
        .map((r) => (r.status === 'stored' ? `stored report ${r.id}` : `duplicate of report ${r.id}`))
        .join(', '),
    ];
  }
  const first = outcome.results[0];
  const reason = first?.status === 'rejected' ? first.reason : 'not an IODEF document';
  return [smtpError(550, `5.6.0 ${oneLine(reason, 200)}`)];
}

export interface MailboxOptions {
  store: Pick<Store, 'storeReceivedIodef'>;
  alert?: ReportAlerter;
  /** Larger messages are skipped (and, in a Maildir, marked seen). Default 1 MiB. */
  maxMessageBytes?: number;
}

export interface MailboxResult {
  /** Message file (Maildir) or index (mbox). */
  message: string;
  outcome: MailOutcome | { sender: string; error: string };
}

/**
 * Processes each message in `dir/new` once: runs it through the intake, then moves it to `dir/cur`
 * with the `:2,S` (seen) suffix. A message whose store failed stays in `new/` for the next run.
 */
export async function readMaildir(dir: string, options: MailboxOptions): Promise<MailboxResult[]> {
  const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  const newDir = join(dir, 'new');
  const curDir = join(dir, 'cur');
  await mkdir(curDir, { recursive: true });
  const names = (await readdir(newDir)).filter((n) => !n.startsWith('.')).sort();
  const out: MailboxResult[] = [];
  for (const name of names) {
    const file = join(newDir, name);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) continue;
    let outcome: MailboxResult['outcome'];
    if (info.size > maxMessage) {
      outcome = { sender: 'unknown sender', error: `message over ${maxMessage} bytes, skipped` };
    } else {
      try {
        const raw = await readFile(file);
        outcome = await acceptMail(options.store, options.alert ?? null, raw, {
          channel: 'file',
          receivedAt: info.mtime,
        });
      } catch (err) {
        // Store down (or unreadable file): leave it in new/ and try again next run.
        out.push({ message: name, outcome: { sender: 'unknown sender', error: errorText(err) } });
        continue;
      }
    }
    const base = name.includes(':') ? name.slice(0, name.indexOf(':')) : name;
    await rename(file, join(curDir, `${base}:2,S`));
    out.push({ message: name, outcome });
  }
  return out;
}

/**
 * Processes every message of an mbox file (`From ` separated, RFC 4155). The store deduplicates,
 * so reading the same mbox again stores and alerts nothing twice.
 */
export async function readMbox(
  path: string,
  options: MailboxOptions & { maxFileBytes?: number },
): Promise<MailboxResult[]> {
  const maxFile = options.maxFileBytes ?? 64 * 1024 * 1024;
  const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  const info = await stat(path);
  if (info.size > maxFile) throw new CertvigilError('USAGE', `mbox ${path} is over ${maxFile} bytes`);
  const text = (await readFile(path)).toString('latin1');
  const messages = text.split(/^From .*\r?\n/m).filter((m) => m.trim() !== '');
  const out: MailboxResult[] = [];
  for (const [i, message] of messages.entries()) {
    const raw = Buffer.from(message.replace(/^>(>*From )/gm, '$1'), 'latin1');
    if (raw.length > maxMessage) {
      out.push({
        message: String(i),
        outcome: { sender: 'unknown sender', error: `message over ${maxMessage} bytes, skipped` },
      });
      continue;
    }
    try {
      out.push({
        message: String(i),
        outcome: await acceptMail(options.store, options.alert ?? null, raw, { channel: 'file' }),
      });
    } catch (err) {
      out.push({ message: String(i), outcome: { sender: 'unknown sender', error: errorText(err) } });
    }
  }
  return out;
}

function errorText(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err), 200);
}
