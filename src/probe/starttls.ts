/**
 * @module probe/starttls
 * The plaintext half of a STARTTLS connection: the protocol dialogue that ends with the server's
 * go-ahead, after which the next bytes on the connection are the client's TLS ClientHello.
 *
 * Why hand-written dialogues instead of client libraries: the probe needs the *same* TCP socket
 * afterwards, positioned exactly at the TLS handshake, for `tls.connect({ socket })` or a raw
 * ClientHello of its own. So this module reads only what each step needs, treats any byte the
 * server sends after its go-ahead as an error (a server that injects plaintext there is broken or
 * attacked: the "STARTTLS command injection" class of bugs, e.g. CVE-2011-0411, CVE-2021-23214), and
 * hands the socket back paused with every listener it added removed.
 *
 * Every dialogue is bounded: one overall deadline (`timeoutMs`), an abort signal, and at most
 * `MAX_REPLY_BYTES` read from the server in total. On failure the socket is destroyed (it is in an
 * unknown protocol state) and a `StartTlsError` explains what the server said.
 *
 * Protocols and their specifications:
 * - SMTP / submission: RFC 3207 (STARTTLS), RFC 5321 §4.2 (multi-line replies), RFC 6409 (port 587).
 * - IMAP: RFC 3501 §6.2.1 / RFC 9051 §6.2.1.
 * - POP3: RFC 2595 §4 (STLS).
 * - FTP: RFC 4217 §4 (AUTH TLS), RFC 959 §4.2 (multi-line replies).
 * - LDAP: RFC 4511 §4.12 and §4.14 (StartTLS extended operation), X.690 BER.
 * - XMPP: RFC 6120 §5.4 (STARTTLS negotiation), client-to-server and server-to-server streams.
 * - ManageSieve: RFC 5804 §1.7 and §2.2.
 * - PostgreSQL: the SSLRequest message of the frontend/backend protocol ("SSL Session Encryption").
 */
import type { Socket } from 'node:net';
import { CertvigilError } from '../errors.js';
import type { StartTlsProtocol } from './types.js';

export interface StartTlsOptions {
  /** The domain the connection is for: XMPP's stream `to=` attribute. */
  domain: string;
  /** The client name SMTP's EHLO announces. Default `certvigil.invalid` (RFC 2606 §2). */
  ehloName?: string;
  /** Overall bound on the whole dialogue, in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What the server said during the dialogue, for diagnostics (bounded; see `MAX_TRANSCRIPT_LINES`). */
export interface StartTlsTranscript {
  protocol: StartTlsProtocol;
  lines: string[];
}

export const DEFAULT_PORTS: Record<StartTlsProtocol, number> = {
  smtp: 25,
  submission: 587,
  imap: 143,
  pop3: 110,
  ftp: 21,
  ldap: 389,
  xmpp: 5222,
  'xmpp-server': 5269,
  sieve: 4190,
  postgres: 5432,
};

export class StartTlsError extends CertvigilError {
  constructor(
    code: 'STARTTLS_FAILED' | 'STARTTLS_TIMEOUT',
    message: string,
    readonly transcript: StartTlsTranscript,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'StartTlsError';
  }
}

/** Total bytes read from the server before the go-ahead; generous for any real greeting. */
export const MAX_REPLY_BYTES = 64 * 1024;
const MAX_TRANSCRIPT_LINES = 40;
const MAX_TRANSCRIPT_LINE_CHARS = 300;
/** How much of a reply goes into an error message. */
const MAX_QUOTED_CHARS = 300;

const LABELS: Record<StartTlsProtocol, string> = {
  smtp: 'SMTP',
  submission: 'SMTP submission',
  imap: 'IMAP',
  pop3: 'POP3',
  ftp: 'FTP',
  ldap: 'LDAP',
  xmpp: 'XMPP',
  'xmpp-server': 'XMPP server-to-server',
  sieve: 'ManageSieve',
  postgres: 'PostgreSQL',
};

function quote(text: string): string {
  const flat = text.replace(/\r?\n/g, ' | ').trim();
  return flat.length > MAX_QUOTED_CHARS ? `${flat.slice(0, MAX_QUOTED_CHARS)}…` : flat;
}

/**
 * The socket's data, buffered until a step of the dialogue consumes it. Reads happen only through
 * the `read*` methods, so nothing is consumed that the dialogue did not ask for.
 */
class Conversation {
  private buffer: Buffer = Buffer.alloc(0);
  private received = 0;
  private failure: StartTlsError | undefined;
  private wake: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly transcript: StartTlsTranscript;
  private omittedLines = 0;
  private address = 'an unknown address';

  constructor(
    private readonly socket: Socket,
    readonly protocol: StartTlsProtocol,
    private readonly options: StartTlsOptions,
  ) {
    this.transcript = { protocol, lines: [] };
    this.who(); // remember the address while the socket has one
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    this.timer = setTimeout(() => {
      this.fail(
        new StartTlsError(
          'STARTTLS_TIMEOUT',
          `${this.who()} did not complete the STARTTLS dialogue within ${options.timeoutMs} ms${this.lastWords()}`,
          this.transcript,
        ),
      );
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted === true) this.onAbort();
    // The socket may have been paused by the caller; the dialogue needs it flowing.
    socket.resume();
  }

  /** `SMTP server at 127.0.0.1:25` (the address is remembered: a destroyed socket forgets it). */
  who(): string {
    const host = this.socket.remoteAddress;
    const port = this.socket.remotePort;
    if (host !== undefined && port !== undefined)
      this.address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return `${LABELS[this.protocol]} server at ${this.address}`;
  }

  private lastWords(): string {
    const pending = this.buffer.toString('utf8');
    return pending.length > 0 ? ` (partial reply: ${quote(pending)})` : '';
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > MAX_REPLY_BYTES) {
      this.fail(
        this.error(`sent more than ${MAX_REPLY_BYTES} bytes without completing the STARTTLS dialogue`),
      );
      return;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.wake?.();
  };

  private readonly onEnd = (): void => {
    this.fail(this.error(`closed the connection during the STARTTLS dialogue${this.lastWords()}`));
  };

  private readonly onError = (err: Error): void => {
    this.fail(
      new StartTlsError(
        'STARTTLS_FAILED',
        `${this.who()}: connection failed during the STARTTLS dialogue: ${err.message}`,
        this.transcript,
        { cause: err },
      ),
    );
  };

  private readonly onAbort = (): void => {
    this.fail(
      new StartTlsError('STARTTLS_FAILED', `${this.who()}: STARTTLS dialogue aborted`, this.transcript, {
        cause: this.options.signal?.reason,
      }),
    );
  };

  /** A `STARTTLS_FAILED` error naming the server. */
  error(message: string): StartTlsError {
    return new StartTlsError('STARTTLS_FAILED', `${this.who()} ${message}`, this.transcript);
  }

  private fail(err: StartTlsError): void {
    this.failure ??= err;
    this.wake?.();
  }

  /** Resolves when more data arrived (or rejects with the failure). */
  private async more(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.wake = undefined;
    if (this.failure !== undefined) throw this.failure;
  }

  record(line: string): void {
    const text =
      line.length > MAX_TRANSCRIPT_LINE_CHARS ? `${line.slice(0, MAX_TRANSCRIPT_LINE_CHARS)}…` : line;
    if (this.transcript.lines.length < MAX_TRANSCRIPT_LINES - 1) {
      this.transcript.lines.push(text);
      return;
    }
    this.omittedLines++;
    this.transcript.lines[MAX_TRANSCRIPT_LINES - 1] = `… (${this.omittedLines} more line(s) omitted)`;
  }

  private take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return taken;
  }

  /** One line without its CR LF (a bare LF is tolerated). */
  async readLine(): Promise<string> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const newline = this.buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.take(newline + 1)
          .toString('utf8')
          .replace(/\r?\n$/, '');
        this.record(line);
        return line;
      }
      await this.more();
    }
  }

  async readBytes(length: number): Promise<Buffer> {
    while (this.buffer.length < length) await this.more();
    if (this.failure !== undefined) throw this.failure;
    return this.take(length);
  }

  /**
   * Reads up to the end of the first match of `pattern` in the data (as latin1, so that string
   * offsets are byte offsets) and returns what was consumed as text. `pattern` must not be global.
   */
  async readThrough(pattern: RegExp, giveUp?: RegExp): Promise<{ text: string; match: RegExpExecArray }> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const text = this.buffer.toString('latin1');
      const match = pattern.exec(text);
      if (match !== null) {
        const consumed = this.take(match.index + match[0].length).toString('utf8');
        for (const line of consumed.split(/\r?\n/)) if (line.trim() !== '') this.record(line.trim());
        return { text: consumed, match };
      }
      if (giveUp?.test(text) === true) {
        const all = this.take(this.buffer.length).toString('utf8');
        this.record(all.trim());
        throw this.error(`ended the dialogue: ${quote(all)}`);
      }
      await this.more();
    }
  }

  transcriptSoFar(): StartTlsTranscript {
    return this.transcript;
  }

  write(data: string | Buffer): void {
    if (this.failure !== undefined) throw this.failure;
    this.socket.write(data);
  }

  private detach(): void {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
  }

  /**
   * The server gave its go-ahead: nothing else may be pending, because the next bytes belong to
   * the TLS handshake (which the client starts).
   */
  finish(): StartTlsTranscript {
    if (this.failure !== undefined) throw this.failure;
    if (this.buffer.length > 0) {
      const extra = this.buffer;
      throw this.error(
        `sent ${extra.length} unexpected byte(s) after its STARTTLS go-ahead (${quote(extra.toString('latin1'))}); refusing to continue`,
      );
    }
    this.detach();
    return this.transcript;
  }

  /** On failure: the socket is in an unknown state and nobody else will use it. */
  abandon(): void {
    this.detach();
    this.socket.destroy();
  }
}

/** An SMTP (RFC 5321 §4.2) or FTP (RFC 959 §4.2) reply: its code and all its lines. */
interface Reply {
  code: number;
  lines: string[];
}

/**
 * Reads one reply. A multi-line reply starts with `ddd-` and ends with the first line `ddd ` (or a
 * bare `ddd`) of the same code; FTP allows free text in between, SMTP repeats `ddd-` on each line.
 */
async function readReply(c: Conversation, step: string): Promise<Reply> {
  const first = await c.readLine();
  const head = /^(\d{3})([ -]|$)/.exec(first);
  if (head === null) throw c.error(`sent a malformed ${step} reply: ${quote(first)}`);
  const code = head[1] ?? '';
  const lines = [first];
  if (head[2] === '-') {
    for (;;) {
      const line = await c.readLine();
      lines.push(line);
      if (line === code || line.startsWith(`${code} `)) break;
    }
  }
  return { code: Number(code), lines };
}

function replyText(reply: Reply): string {
  return quote(reply.lines.join('\n'));
}

/** RFC 3207 §4: EHLO must list STARTTLS; STARTTLS is answered 220, then TLS starts. */
async function smtp(c: Conversation, ehloName: string): Promise<void> {
  const greeting = await readReply(c, 'greeting');
  if (greeting.code !== 220) throw c.error(`refused the connection (greeting: ${replyText(greeting)})`);
  c.write(`EHLO ${ehloName}\r\n`);
  const ehlo = await readReply(c, 'EHLO');
  if (ehlo.code !== 250) throw c.error(`rejected EHLO (reply: ${replyText(ehlo)})`);
  const keywords = ehlo.lines
    .slice(1)
    .map((line) => (line.slice(4).trim().split(/\s+/)[0] ?? '').toUpperCase());
  if (!keywords.includes('STARTTLS'))
    throw c.error(`does not offer STARTTLS (EHLO reply: ${replyText(ehlo)})`);
  c.write('STARTTLS\r\n');
  const reply = await readReply(c, 'STARTTLS');
  if (reply.code !== 220) throw c.error(`refused STARTTLS (reply: ${replyText(reply)})`);
}

/** RFC 3501 §6.2.1 / RFC 9051 §6.2.1: STARTTLS in the not-authenticated state, tagged OK. */
async function imap(c: Conversation): Promise<void> {
  const greeting = await c.readLine();
  if (/^\* PREAUTH\b/i.test(greeting))
    throw c.error(
      `greeted with PREAUTH, where STARTTLS is not allowed (RFC 9051 §6.2.1): ${quote(greeting)}`,
    );
  if (!/^\* OK\b/i.test(greeting)) throw c.error(`refused the connection (greeting: ${quote(greeting)})`);
  const tag = 'cv1';
  c.write(`${tag} STARTTLS\r\n`);
  for (;;) {
    const line = await c.readLine();
    if (/^\* BYE\b/i.test(line)) throw c.error(`closed the session instead of STARTTLS: ${quote(line)}`);
    // Other untagged data (an unsolicited CAPABILITY, say) may precede the tagged completion.
    if (line.startsWith('* ')) continue;
    if (!line.toLowerCase().startsWith(`${tag} `)) throw c.error(`sent an unexpected line: ${quote(line)}`);
    if (/^\S+ OK\b/i.test(line)) return;
    throw c.error(`refused STARTTLS (reply: ${quote(line)})`);
  }
}

/** RFC 2595 §4: STLS, answered +OK. */
async function pop3(c: Conversation): Promise<void> {
  const greeting = await c.readLine();
  if (!greeting.startsWith('+OK')) throw c.error(`refused the connection (greeting: ${quote(greeting)})`);
  c.write('STLS\r\n');
  const reply = await c.readLine();
  if (!reply.startsWith('+OK')) throw c.error(`refused STLS (reply: ${quote(reply)})`);
}

/** RFC 4217 §4: AUTH TLS, answered 234. A 120 greeting ("ready in n minutes") precedes the 220. */
async function ftp(c: Conversation): Promise<void> {
  let greeting = await readReply(c, 'greeting');
  if (greeting.code === 120) greeting = await readReply(c, 'greeting');
  if (greeting.code !== 220) throw c.error(`refused the connection (greeting: ${replyText(greeting)})`);
  c.write('AUTH TLS\r\n');
  const reply = await readReply(c, 'AUTH TLS');
  if (reply.code !== 234) throw c.error(`refused AUTH TLS (reply: ${replyText(reply)})`);
}

/**
 * RFC 4511 §4.14.1: LDAPMessage { messageID 1, ExtendedRequest [APPLICATION 23] { requestName [0]
 * "1.3.6.1.4.1.1466.20037" } }, in BER (X.690 §8), fixed so written out by hand.
 */
const LDAP_STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
export const LDAP_STARTTLS_REQUEST = Buffer.concat([
  Buffer.from([0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]),
  Buffer.from(LDAP_STARTTLS_OID, 'latin1'),
]);

/** RFC 4511 §4.1.9 result codes a StartTLS response is likely to carry. */
const LDAP_RESULTS: Record<number, string> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

/** A minimal BER reader over one complete LDAPMessage (definite lengths only, as LDAP requires). */
class Ber {
  private offset = 0;
  constructor(
    private readonly data: Buffer,
    private readonly fail: (why: string) => Error,
  ) {}

  get done(): boolean {
    return this.offset >= this.data.length;
  }

  /** Reads a tag and length; returns the tag and the contents. */
  element(): { tag: number; contents: Buffer } {
    const tag = this.byte();
    const length = berLength(this.data, this.offset, (n) => (this.offset += n));
    if (length === undefined) throw this.fail('bad BER length');
    if (this.offset + length > this.data.length) throw this.fail('BER element overruns the message');
    const contents = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return { tag, contents };
  }

  private byte(): number {
    const value = this.data[this.offset];
    if (value === undefined) throw this.fail('truncated BER');
    this.offset++;
    return value;
  }
}

/**
 * Decodes a BER definite length at `data[at]`; calls `advance` with the bytes it used. Undefined
 * when the bytes are not (yet) a valid length of at most 4 bytes.
 */
function berLength(data: Buffer, at: number, advance: (n: number) => void): number | undefined {
  const first = data[at];
  if (first === undefined) return undefined;
  if (first < 0x80) {
    advance(1);
    return first;
  }
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + 1 + count > data.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (data[at + 1 + i] ?? 0);
  advance(1 + count);
  return length;
}

function berInteger(contents: Buffer): number {
  let value = contents[0] !== undefined && contents[0] >= 0x80 ? -1 : 0;
  for (const byte of contents.subarray(0, 6)) value = value * 256 + byte;
  return value;
}

/** RFC 4511 §4.14.2: the ExtendedResponse [APPLICATION 24] must carry resultCode success (0). */
async function ldap(c: Conversation): Promise<void> {
  c.write(LDAP_STARTTLS_REQUEST);
  const head = await c.readBytes(2);
  if (head[0] !== 0x30)
    throw c.error(`sent a reply that is not an LDAPMessage (first byte 0x${hex(head[0])})`);
  let header = head;
  let length: number | undefined;
  let used = 0;
  for (;;) {
    length = berLength(header, 1, (n) => (used = n));
    if (length !== undefined) break;
    const count = (header[1] ?? 0) & 0x7f;
    if (count === 0 || count > 4 || header.length >= 2 + count)
      throw c.error(`sent an LDAPMessage with an unsupported BER length (0x${hex(header[1])})`);
    header = Buffer.concat([header, await c.readBytes(2 + count - header.length)]);
  }
  if (length > MAX_REPLY_BYTES) throw c.error(`sent an LDAPMessage of ${length} bytes`);
  const body = await c.readBytes(length - (header.length - 1 - used));
  const message = Buffer.concat([header.subarray(1 + used), body]);
  const ber = new Ber(message, (why) => c.error(`sent a malformed LDAP response: ${why}`));
  const id = ber.element();
  if (id.tag !== 0x02) throw c.error('sent an LDAP response without a messageID');
  const op = ber.element();
  const messageId = berInteger(id.contents);
  if (op.tag !== 0x78) {
    throw c.error(`answered StartTLS with LDAP protocolOp 0x${hex(op.tag)} instead of an ExtendedResponse`);
  }
  const fields = new Ber(op.contents, (why) => c.error(`sent a malformed LDAP ExtendedResponse: ${why}`));
  const result = fields.element();
  const matchedDn = fields.element();
  const diagnostic = fields.element();
  let responseName = '';
  while (!fields.done) {
    const extra = fields.element();
    if (extra.tag === 0x8a) responseName = extra.contents.toString('latin1');
  }
  if (result.tag !== 0x0a || matchedDn.tag !== 0x04 || diagnostic.tag !== 0x04)
    throw c.error('sent a malformed LDAP ExtendedResponse (LDAPResult fields)');
  const code = berInteger(result.contents);
  const text = diagnostic.contents.toString('utf8');
  c.record(
    `messageID=${messageId} resultCode=${code} (${LDAP_RESULTS[code] ?? 'see RFC 4511 §4.1.9'})` +
      (text === '' ? '' : ` diagnosticMessage=${quote(text)}`) +
      (responseName === '' ? '' : ` responseName=${responseName}`),
  );
  // messageID 0 is an unsolicited notification (RFC 4511 §4.4), e.g. a Notice of Disconnection.
  if (messageId !== 1)
    throw c.error(`sent an unsolicited LDAP notification (resultCode ${code}): ${quote(text)}`);
  if (code !== 0)
    throw c.error(
      `refused StartTLS (resultCode ${code} ${LDAP_RESULTS[code] ?? ''}${text === '' ? '' : `: ${quote(text)}`})`,
    );
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}

const XMPP_TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** A stream error (RFC 6120 §4.9) or the stream's end: the server gave up on us. */
const XMPP_GIVE_UP = /<(?:[\w.-]+:)?error[\s>][\s\S]*<\/(?:[\w.-]+:)?error\s*>|<\/(?:[\w.-]+:)?stream\s*>/;

function xmlEscape(value: string): string {
  return value.replace(/[&<>'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * RFC 6120 §5.4.2: open the stream, read the features, require `<starttls/>` in the TLS namespace,
 * send `<starttls/>`, expect `<proceed/>`. A tolerant scanner over the bytes, not an XML parser:
 * the features element is small and the namespaces are fixed.
 */
async function xmpp(c: Conversation, domain: string, server: boolean): Promise<void> {
  const ns = server ? 'jabber:server' : 'jabber:client';
  c.write(
    `<?xml version='1.0'?><stream:stream to='${xmlEscape(domain)}' xmlns='${ns}'` +
      ` xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
  );
  const { text } = await c.readThrough(
    /<(?:[\w.-]+:)?features(?:\s[^>]*)?\/>|<\/(?:[\w.-]+:)?features\s*>/,
    XMPP_GIVE_UP,
  );
  const features = text.slice(Math.max(0, text.search(/<(?:[\w.-]+:)?features[\s>/]/)));
  const starttls = /<(?:[\w.-]+:)?starttls\b[^>]*>/.exec(features);
  if (starttls === null || !starttls[0].includes(XMPP_TLS_NS))
    throw c.error(`does not offer STARTTLS (stream features: ${quote(features)})`);
  c.write(`<starttls xmlns='${XMPP_TLS_NS}'/>`);
  const { match } = await c.readThrough(
    /<(?:[\w.-]+:)?(proceed|failure)\b[^>]*?(?:\/>|>[\s\S]*?<\/(?:[\w.-]+:)?\1\s*>)/,
    XMPP_GIVE_UP,
  );
  if (match[1] !== 'proceed') throw c.error(`refused STARTTLS (reply: ${quote(match[0])})`);
}

/** RFC 5804 §1.7: capabilities end with OK; "STARTTLS" must be among them; STARTTLS gets OK. */
async function sieve(c: Conversation): Promise<void> {
  const capabilities: string[] = [];
  for (;;) {
    const line = await c.readLine();
    if (/^(OK|NO|BYE)\b/i.test(line)) {
      if (!/^OK\b/i.test(line)) throw c.error(`refused the connection (greeting: ${quote(line)})`);
      break;
    }
    capabilities.push(line);
  }
  if (!capabilities.some((line) => /^"STARTTLS"/i.test(line)))
    throw c.error(`does not offer STARTTLS (capabilities: ${quote(capabilities.join('\n'))})`);
  c.write('STARTTLS\r\n');
  const reply = await c.readLine();
  if (!/^OK\b/i.test(reply)) throw c.error(`refused STARTTLS (reply: ${quote(reply)})`);
}

/**
 * PostgreSQL SSLRequest: Int32 length 8, Int32 80877103 (1234 << 16 | 5679); the server answers one
 * byte, 'S' (go ahead) or 'N' (no TLS). Servers older than 7.0 answer an ErrorResponse ('E').
 */
export const POSTGRES_SSL_REQUEST = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);

async function postgres(c: Conversation): Promise<void> {
  c.write(POSTGRES_SSL_REQUEST);
  const answer = (await c.readBytes(1)).toString('latin1');
  c.record(answer);
  if (answer === 'S') return;
  if (answer === 'N') throw c.error('does not offer TLS (answered SSLRequest with N)');
  throw c.error(`answered SSLRequest with an unexpected byte 0x${hex(answer.charCodeAt(0))}`);
}

/**
 * Runs the protocol's STARTTLS dialogue on a connected (or connecting) socket. Resolves once the
 * server has agreed and the socket is paused exactly before the TLS ClientHello; the caller then
 * runs `tls.connect({ socket, servername })`. Rejects with a `StartTlsError` (and destroys the
 * socket) when the server does not offer or refuses STARTTLS, says something unexpected, stays
 * silent past `timeoutMs`, sends more than `MAX_REPLY_BYTES`, or when `signal` aborts; with a
 * `CertvigilError` 'USAGE' (socket untouched) when `ehloName` or `domain` cannot go on the wire.
 *
 * Bytes the server sends after its go-ahead are detected only if they arrive with it or before the
 * socket is handed back; later ones reach the TLS layer, which fails the handshake on them.
 */
export async function negotiateStartTls(
  socket: Socket,
  protocol: StartTlsProtocol,
  options: StartTlsOptions,
): Promise<StartTlsTranscript> {
  const ehloName = options.ehloName ?? 'certvigil.invalid';
  // Both end up inside protocol commands: no spaces, controls or markup that could inject more.
  if (!/^[\x21-\x7e]{1,255}$/.test(ehloName))
    throw new CertvigilError('USAGE', `invalid EHLO name ${JSON.stringify(ehloName)}`);
  if (!/^[^\s\p{Cc}<>&'"]{1,1023}$/u.test(options.domain))
    throw new CertvigilError('USAGE', `invalid domain ${JSON.stringify(options.domain)}`);
  const c = new Conversation(socket, protocol, options);
  try {
    switch (protocol) {
      case 'smtp':
      case 'submission':
        await smtp(c, ehloName);
        break;
      case 'imap':
        await imap(c);
        break;
      case 'pop3':
        await pop3(c);
        break;
      case 'ftp':
        await ftp(c);
        break;
      case 'ldap':
        await ldap(c);
        break;
      case 'xmpp':
        await xmpp(c, options.domain, false);
        break;
      case 'xmpp-server':
        await xmpp(c, options.domain, true);
        break;
      case 'sieve':
        await sieve(c);
        break;
      case 'postgres':
        await postgres(c);
        break;
    }
    return c.finish();
  } catch (err) {
    const failure =
      err instanceof StartTlsError
        ? err
        : new StartTlsError(
            'STARTTLS_FAILED',
            `${c.who()}: STARTTLS dialogue failed: ${(err as Error).message}`,
            c.transcriptSoFar(),
            { cause: err },
          );
    c.abandon();
    throw failure;
  }
}
