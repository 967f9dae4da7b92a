/**
 * @module iodef/receiver/smtp
 * The mail end of a CAA `iodef "mailto:…"` property (RFC 8659 §4.4: the CA sends the IODEF
 * document by email). Two intakes, both feeding `acceptReport`:
 *
 * - `startSmtpReceiver`: an SMTP server (the `smtp-server` package) for the report address's MX.
 *   No AUTH (anyone may report, RFC 8659 §4.4), STARTTLS only when a certificate is given
 *   (RFC 3207), a message size limit advertised with SIZE (RFC 1870) and enforced on the data.
 *   It faces the Internet, so every resource a client can hold is bounded:
 *   recipients per transaction (`maxRecipients`, 452 as RFC 5321 §4.5.3.1.10 allows: one session
 *   once took 1.5M RCPT TO and 367 MiB), connections in total and per client address (IPv6 by
 *   /64), the session's wall-clock time and its number of commands (NOOP and RSET included, so
 *   idle sessions cannot keep a slot by chatting), the command line length, and a token bucket per
 *   client /64 that takes one token per stored document (451 4.7.1, the sender's MTA retries).
 *   A mail that cannot be parsed, or is over the MIME limits (header section, part count), is
 *   refused for good (554 5.6.0): MTAs retry a 4xx for days. Only a store that cannot write is a
 *   temporary failure (451 4.3.0). No reverse DNS lookups: a hostile client must not make us query
 *   anything.
 * - `readMaildir` / `readMbox`: for owners who receive the reports in an ordinary mailbox. Maildir
 *   messages are taken from `new/` and moved to `cur/` with the Seen flag (the Maildir convention),
 *   so each is processed once; a message whose store failed stays in `new/` for the next run.
 *
 * The IODEF document is taken from every attachment of an XML type (RFC 7970 §8 registers
 * `application/xml`-family use; CAs also send `text/xml` or a `.xml` file name), else from a text
 * body that is itself an XML document. `mailparser` parses the MIME; the XML goes to iodef/parse.ts.
 */
import { lstat, mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { AddressObject, ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

import { CertvigilError, errorMessage } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { checkTlsMaterial } from './http.js';
import { acceptedReply, acceptReport, oneLine } from './intake.js';
import type { IntakeOptions, IntakeResult, ReportAlerter, ReportChannel } from './intake.js';
import { addressKey, ConnectionCounter, TokenBucketLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';

/** smtp-server's connection class (not exported by name; `server.connections` holds them). */
type SMTPConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

const XML_TYPES = new Set(['application/xml', 'text/xml', 'application/rid+xml', 'application/iodef+xml']);
const DEFAULT_MAX_MESSAGE = 1024 * 1024;
/** IODEF documents taken from one mail (each needs its own rate-limit token). */
const MAX_DOCUMENTS_PER_MAIL = 5;
/** Header section of each MIME part. */
const MAX_HEADER_BYTES = 64 * 1024;
/** MIME parts in one message: a report mail has two or three. */
const MAX_MIME_PARTS = 32;

/** The outcome of one mail: one intake result per IODEF document found in it. */
export interface MailOutcome {
  sender: string;
  results: IntakeResult[];
  /** Set when the mail carried no IODEF document at all. */
  noDocument?: true;
  /** Documents left unprocessed because the sender had no rate-limit token left. */
  rateLimited?: number;
}

export interface ExtractedDocument {
  bytes: Buffer;
  /** Attachment file name, or `body`. */
  from: string;
}

/** The IODEF candidates of a parsed mail: XML attachments, else an XML text body. */
export function iodefDocuments(mail: ParsedMail, maxDocuments = MAX_DOCUMENTS_PER_MAIL): ExtractedDocument[] {
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
  meta: {
    envelopeSender?: string;
    channel: ReportChannel;
    receivedAt?: Date | string;
    peer?: string;
    /** Takes a rate-limit token for each document after the first; false: stop here. */
    takeToken?: () => boolean;
    intake?: IntakeOptions;
  },
): Promise<MailOutcome> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
      maxHtmlLengthToParse: 64 * 1024,
      // Bounds of the MIME splitter (its defaults are 1 MiB of header per part and 1000 parts,
      // all kept in memory): a report mail has a few small parts. Past them the parser fails,
      // which is a permanent refusal below.
      maxHeadSize: MAX_HEADER_BYTES,
      maxChildNodes: MAX_MIME_PARTS,
    });
  } catch (cause) {
    throw new CertvigilError(
      'IODEF_BAD_MAIL',
      `the message is not valid MIME: ${oneLine(errorMessage(cause), 120)}`,
      { cause },
    );
  }
  const from = meta.envelopeSender ?? firstAddress(mail.from) ?? 'unknown sender';
  const sender = oneLine(meta.peer === undefined ? from : `${from} via ${meta.peer}`, 300);
  // The dedup identity: the envelope sender and the client address for SMTP (both are what the
  // sending MTA asserts and we observe), the From address for a mailbox.
  const senderKey = meta.peer === undefined ? `${meta.channel}:${from}` : `smtp:${from} ${meta.peer}`;
  const docs = iodefDocuments(mail);
  if (docs.length === 0) return { sender, results: [], noDocument: true };
  const results: IntakeResult[] = [];
  let rateLimited = 0;
  for (const [i, doc] of docs.entries()) {
    if (i > 0 && meta.takeToken !== undefined && !meta.takeToken()) {
      rateLimited = docs.length - i;
      break;
    }
    const input: Parameters<typeof acceptReport>[2] = {
      bytes: doc.bytes,
      sender,
      senderKey,
      channel: meta.channel,
    };
    if (meta.receivedAt !== undefined) input.receivedAt = meta.receivedAt;
    // The parser's own limits (256 KiB, depth 64) apply to each document, whatever the mail size.
    results.push(await acceptReport(store, alert, input, meta.intake));
  }
  return rateLimited > 0 ? { sender, results, rateLimited } : { sender, results };
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
  /** Concurrent sessions in total. Default 20. */
  maxClients?: number;
  /** Concurrent sessions per client address (IPv6: per /64). Default 3. */
  maxClientsPerAddress?: number;
  /** Idle socket timeout. Default 30 s. */
  socketTimeoutMs?: number;
  /** Whole-session wall-clock limit, however busy the client keeps it. Default 5 min. */
  maxSessionMs?: number;
  /** Commands per session, NOOP and RSET included. Default 50. */
  maxCommands?: number;
  /** Recipients per transaction (452 beyond). Default 5. */
  maxRecipients?: number;
  /** Passed to the intake (daily quota). */
  intake?: IntakeOptions;
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
  // A STARTTLS certificate and key that cannot work refuse to start, as for HTTPS.
  if (options.tls !== undefined) checkTlsMaterial({ cert: options.tls.cert, key: options.tls.key });
  const limiter = new TokenBucketLimiter(options.rate);
  const perAddress = new ConnectionCounter(options.maxClientsPerAddress ?? 3);
  const maxSessionMs = options.maxSessionMs ?? 5 * 60_000;
  const maxCommands = options.maxCommands ?? 50;
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
  /** Per session: its address key (for release) and its deadline timer. */
  const sessions = new Map<string, { key: string; timer: NodeJS.Timeout }>();

  const server: SMTPServer = new SMTPServer({
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
    maxRecipients: options.maxRecipients ?? 5,
    // RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; leave room for extensions.
    maxCommandLength: 2048,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    closeTimeout: 1_000,
    logger: false,
    onConnect(session, callback) {
      const key = addressKey(peerOf(session));
      if (!perAddress.acquire(key)) {
        callback(smtpError(421, `too many connections from ${key}, try again later`));
        return;
      }
      const connection = [...server.connections].find((c) => c.session === session || c.id === session.id);
      const timer = setTimeout(() => {
        connection?.send(421, 'session time limit reached, closing');
      }, maxSessionMs);
      timer.unref();
      sessions.set(session.id, { key, timer });
      if (connection !== undefined) countCommands(connection, maxCommands);
      callback();
    },
    onClose(session) {
      const s = sessions.get(session.id);
      if (s === undefined) return;
      sessions.delete(session.id);
      clearTimeout(s.timer);
      perAddress.release(s.key);
    },
    onMailFrom(_address, session, callback) {
      const rate = limiter.take(`addr:${addressKey(peerOf(session))}`);
      if (!rate.allowed) {
        callback(
          smtpError(
            451,
            `too many reports from ${addressKey(peerOf(session))}, try again in ${rate.retryAfterSeconds} s`,
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
          callback(smtpError(552, `message over ${maxMessage} bytes`));
          return;
        }
        const mailFrom = session.envelope.mailFrom;
        const key = `addr:${addressKey(peerOf(session))}`;
        const meta: Parameters<typeof acceptMail>[3] = {
          channel: 'smtp',
          peer: peerOf(session),
          // The MAIL FROM took the first token; every further document takes its own.
          takeToken: () => limiter.take(key).allowed,
        };
        if (options.intake !== undefined) meta.intake = options.intake;
        if (mailFrom !== false && mailFrom.address !== '') meta.envelopeSender = mailFrom.address;
        acceptMail(options.store, alert, Buffer.concat(chunks, total), meta).then(
          (outcome) => {
            report(outcome);
            callback(...smtpVerdict(outcome));
          },
          (err: unknown) => {
            const message = errorMessage(err);
            report({ sender: peerOf(session), error: message });
            if ((err as { code?: unknown }).code === 'IODEF_BAD_MAIL') {
              // Permanent: the same bytes will never parse; a 4xx would be retried for days.
              callback(smtpError(554, oneLine(message, 200)));
              return;
            }
            // The store failed: a temporary failure, the MTA keeps the mail.
            callback(smtpError(451, 'cannot store the report now, try again later'));
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

/**
 * Counts every command of a session, NOOP and RSET included (RFC 5321 §4.1.1.9 lets a client send
 * NOOP at any time: without a budget 20 chatting sessions hold every slot), and ends the session
 * with 421 past `max`. smtp-server has no per-command hook, so this wraps the connection's command
 * dispatcher (`_onCommand`, typed in its .d.ts; the SMTP test proves it still counts after an upgrade).
 */
function countCommands(connection: SMTPConnection, max: number): void {
  const dispatch = connection._onCommand.bind(connection);
  let count = 0;
  connection._onCommand = (command: Buffer, callback?: () => void): void => {
    if (++count > max) {
      connection.send(421, `too many commands in one session (${max}), closing`);
      callback?.();
      return;
    }
    dispatch(command, callback);
  };
}

/**
 * 250 when at least one document was stored or was the sender's own duplicate (the same text for
 * both: nothing about other senders leaks); 451 when the rest was rate-limited or over the daily
 * quota (the MTA retries); 550 when no document was acceptable.
 */
function smtpVerdict(outcome: MailOutcome): [Error | null, string?] {
  if (outcome.noDocument === true) return [smtpError(550, 'no IODEF document found in the message')];
  const accepted = outcome.results.flatMap((r) =>
    r.status === 'stored' || r.status === 'duplicate' ? [acceptedReply(r)] : [],
  );
  if (accepted.length > 0) return [null, accepted.join(', ')];
  if (outcome.results.some((r) => r.status === 'over-quota'))
    return [smtpError(451, 'the receiver takes no more reports today, try again later')];
  if ((outcome.rateLimited ?? 0) > 0) return [smtpError(451, 'too many reports, try again later')];
  const first = outcome.results[0];
  const reason = first?.status === 'rejected' ? first.reason : 'not an IODEF document';
  return [smtpError(550, oneLine(reason, 200))];
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
    // lstat: a symlink in new/ is not a message (it could point at any file the receiver may read).
    const info = await lstat(file).catch(() => null);
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
        if ((err as { code?: unknown }).code === 'IODEF_BAD_MAIL') {
          // Permanent: it will never parse; mark it seen instead of retrying it every run.
          outcome = { sender: 'unknown sender', error: errorText(err) };
        } else {
          // Store down (or unreadable file): leave it in new/ and try again next run.
          out.push({ message: name, outcome: { sender: 'unknown sender', error: errorText(err) } });
          continue;
        }
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
  return oneLine(errorMessage(err), 200);
}
