/**
 * @module probe/starttls/conversation
 * The bounded, buffered reader every STARTTLS dialogue runs on (see ../starttls.ts for the why):
 * one overall deadline, an abort signal, at most `MAX_REPLY_BYTES` from the server in total and
 * `MAX_LINE_BYTES` per line, a bounded transcript, and a hand-over that refuses any byte the
 * server sent after its go-ahead. Outside text in messages is sanitised (`quote`).
 */
import type { Socket } from 'node:net';
import { CertvigilError } from '../../errors.js';
import type { StartTlsErrorCode } from '../errors.js';
import { sanitizeText } from '../../sanitize.js';
import type { StartTlsProtocol } from '../types.js';

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

/** What the server said during the dialogue, for diagnostics (bounded; see `MAX_TRANSCRIPT_LINES`). */
export interface StartTlsTranscript {
  protocol: StartTlsProtocol;
  lines: string[];
}

export class StartTlsError extends CertvigilError {
  constructor(
    code: StartTlsErrorCode,
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
/** Longest line a line-based dialogue accepts (see `Conversation.readLine`). */
export const MAX_LINE_BYTES = 8 * 1024;
const MAX_TRANSCRIPT_LINES = 40;
const MAX_TRANSCRIPT_LINE_CHARS = 300;
/** How much of a reply goes into an error message. */
const MAX_QUOTED_CHARS = 300;

/** Server text in a message: one line, sanitised (a banner may hold ESC, bidi or NUL), bounded. */
export function quote(text: string): string {
  const flat = text.replace(/\r?\n/g, ' | ').trim();
  return sanitizeText(flat, { maxLength: MAX_QUOTED_CHARS });
}

export function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}

/**
 * The socket's data, buffered until a step of the dialogue consumes it. Reads happen only through
 * the `read*` methods, so nothing is consumed that the dialogue did not ask for.
 */
export class Conversation {
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
    /** `SMTP`, `MySQL`, …: how messages name the server. */
    private readonly label: string,
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
    return `${this.label} server at ${this.address}`;
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

  /**
   * One line without its CR LF (a bare LF is tolerated), of at most `MAX_LINE_BYTES`: a longer one
   * is an error at once rather than after `MAX_REPLY_BYTES` (every line protocol here has a far
   * smaller limit: RFC 5321 §4.5.3.1.5 512 octets, RFC 3977 §3.1 512, IRCv3 message-tags 8191 + 512).
   */
  async readLine(): Promise<string> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const newline = this.buffer.indexOf(0x0a);
      if ((newline < 0 ? this.buffer.length : newline) > MAX_LINE_BYTES)
        throw this.error(
          `sent a line longer than ${MAX_LINE_BYTES} bytes (${quote(this.buffer.subarray(0, 80).toString('latin1'))}…)`,
        );
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
