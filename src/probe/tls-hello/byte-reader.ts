/**
 * @module probe/tls-hello/byte-reader
 * The two byte-level tools of the server-flight parser: `Reader`, a bounds-checked cursor over one
 * structure (a handshake message body or a vector, RFC 5246 §4.3 / §7.4), and `ByteQueue`, the FIFO
 * that holds the record layer's input and the handshake stream reassembled from records (RFC 5246
 * §6.2.1: a message may span records, a record may hold several).
 *
 * Why bounds-checked: the input is whatever a server (or an attacker in the path) sent, so every
 * read past the end is a TLS_HELLO_MALFORMED `TlsHelloError`, never a RangeError or a silent 0.
 */
import { TlsHelloError } from './hello-error.js';

export const malformed = (message: string): never => {
  throw new TlsHelloError('TLS_HELLO_MALFORMED', message);
};

/** A bounds-checked reader over one structure (a handshake message body or a vector's content). */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  #need(n: number, field: string): void {
    if (n > this.remaining) malformed(`${this.what}: ${field} needs ${n} bytes, ${this.remaining} left`);
  }
  uint(n: 1 | 2 | 3, field: string): number {
    this.#need(n, field);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (this.bytes[this.pos + i] ?? 0);
    this.pos += n;
    return v;
  }
  take(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  vector(lengthBytes: 1 | 2 | 3, field: string): Uint8Array {
    return this.take(this.uint(lengthBytes, `${field} length`), field);
  }
  done(): void {
    if (this.remaining !== 0) malformed(`${this.what}: ${this.remaining} trailing bytes`);
  }
}

/**
 * A FIFO of bytes with amortised O(1) append and consume: the record layer's input, and the
 * handshake stream reassembled from record fragments. Views into it are only valid until the next
 * append, so everything kept in the facts is copied out.
 */
export class ByteQueue {
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  get length(): number {
    return this.#end - this.#start;
  }
  append(data: Uint8Array): void {
    if (this.#end + data.length > this.#buf.length) {
      const needed = this.length + data.length;
      if (needed * 2 <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end); // compact in place
      } else {
        const next = new Uint8Array(Math.max(needed * 2, 4096));
        next.set(this.#buf.subarray(this.#start, this.#end), 0);
        this.#buf = next;
      }
      this.#end = this.length;
      this.#start = 0;
    }
    this.#buf.set(data, this.#end);
    this.#end += data.length;
  }
  /** The byte at offset `i` from the front (0 past the end). */
  at(i: number): number {
    return this.#buf[this.#start + i] ?? 0;
  }
  view(offset: number, length: number): Uint8Array {
    return this.#buf.subarray(this.#start + offset, this.#start + offset + length);
  }
  consume(n: number): void {
    this.#start += n;
  }
}
