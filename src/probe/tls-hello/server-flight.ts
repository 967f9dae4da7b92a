/**
 * @module probe/tls-hello/server-flight
 * The incremental parser of a server's plaintext first flight: TLS records (RFC 5246 §6.2.1),
 * alerts (§7.2), the handshake messages reassembled from them (§7.4) up to ServerHelloDone, or
 * until nothing more can come in the clear (fatal alert, TLS 1.3 ServerHello / HelloRetryRequest,
 * RFC 8446 §4.1.3, ChangeCipherSpec or application data).
 *
 * Why pure and incremental: fed chunk by chunk as the socket delivers them, it stays linear in the
 * bytes received however they are split, and it can be tested and fuzzed without sockets
 * (`tls-hello.test.ts`); `connection.ts` is the only socket code.
 */
import { ByteQueue, malformed } from './byte-reader.js';
import { CONTENT_TYPE, HANDSHAKE_TYPE, TLS_1_3 } from './constants.js';
import type { ServerHelloFacts } from './facts.js';
import { emptyFacts } from './facts.js';
import { parseCertificate, parseCertificateStatus, parseServerHello } from './messages.js';

/** RFC 5246 §6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes. */
const MAX_RECORD_LENGTH = 2 ** 14 + 2048;

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 8);
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  return printable
    ? `text ${JSON.stringify(Buffer.from(head).toString('latin1'))}`
    : Buffer.from(head).toString('hex');
}

/**
 * The parser behind {@link parseServerFlight} and {@link readServerHello}, fed chunk by chunk as they
 * arrive (linear in the bytes received, however they are split). Once it has thrown, drop it.
 */
export class ServerFlightParser {
  readonly facts: ServerHelloFacts = emptyFacts();
  #complete = false;
  #input = new ByteQueue();
  /** Reassembly buffer: handshake messages may span records, and a record may hold several (§6.2.1). */
  #handshake = new ByteQueue();
  #offset = 0;
  #messages = 0;

  get complete(): boolean {
    return this.#complete;
  }

  /** Feeds more bytes; returns whether the flight is complete. Bytes after completion are ignored. */
  push(chunk: Uint8Array): boolean {
    if (this.#complete) return true;
    this.#input.append(chunk);
    const input = this.#input;
    while (!this.#complete && input.length >= 5) {
      // RFC 5246 §6.2.1 TLSPlaintext: type, ProtocolVersion version, uint16 length, fragment.
      const type = input.at(0);
      const major = input.at(1);
      const length = (input.at(3) << 8) | input.at(4);
      const where = this.#offset;
      if (type < CONTENT_TYPE.changeCipherSpec || type > CONTENT_TYPE.applicationData || major !== 3)
        malformed(
          where === 0
            ? `not a TLS server: answer starts with ${describeStart(input.view(0, Math.min(8, input.length)))}`
            : `record at offset ${where}: content type ${type}, version major ${major}`,
        );
      if (length > MAX_RECORD_LENGTH) malformed(`record at offset ${where}: length ${length} > 2^14+2048`);
      if (length === 0 && type !== CONTENT_TYPE.applicationData)
        malformed(`record at offset ${where}: empty fragment of content type ${type}`); // §6.2.1
      if (input.length - 5 < length) break; // short read: wait for the rest of the record
      const fragment = input.view(5, length);
      this.#record(type, fragment);
      input.consume(5 + length);
      this.#offset += 5 + length;
    }
    return this.#complete;
  }

  #record(type: number, fragment: Uint8Array): void {
    const facts = this.facts;
    if (type === CONTENT_TYPE.alert) {
      // RFC 5246 §7.2: AlertLevel level (1 warning, 2 fatal), AlertDescription description.
      if (fragment.length !== 2) malformed(`alert record of ${fragment.length} bytes`);
      const level = fragment[0] ?? 0;
      const description = fragment[1] ?? 0;
      facts.alert = { level, description };
      if (level !== 1 || description === 0) this.#complete = true; // fatal, or close_notify
      return;
    }
    if (type === CONTENT_TYPE.changeCipherSpec || type === CONTENT_TYPE.applicationData) {
      // Resumption, TLS 1.3 middlebox compatibility, or garbage: what follows is encrypted.
      if (this.#messages === 0) malformed(`content type ${type} before the ServerHello`);
      this.#complete = true;
      return;
    }
    const hs = this.#handshake;
    hs.append(fragment);
    // RFC 5246 §7.4: HandshakeType msg_type, uint24 length, body.
    while (!this.#complete && hs.length >= 4) {
      const msgType = hs.at(0);
      const msgLength = (hs.at(1) << 16) | (hs.at(2) << 8) | hs.at(3);
      if (hs.length - 4 < msgLength) break; // continues in the next record
      const body = hs.view(4, msgLength);
      this.#message(msgType, body);
      hs.consume(4 + msgLength);
    }
  }

  #message(msgType: number, body: Uint8Array): void {
    const facts = this.facts;
    if (msgType === HANDSHAKE_TYPE.helloRequest) {
      if (body.length !== 0) malformed('HelloRequest with a body');
      return; // RFC 5246 §7.4.1.1: may be ignored
    }
    if (this.#messages === 0 && msgType !== HANDSHAKE_TYPE.serverHello)
      malformed(`first handshake message is type ${msgType}, not ServerHello`);
    if (this.#messages > 0 && msgType === HANDSHAKE_TYPE.serverHello) malformed('second ServerHello');
    this.#messages++;
    switch (msgType) {
      case HANDSHAKE_TYPE.serverHello:
        parseServerHello(body, facts);
        if (facts.version >= TLS_1_3 || facts.helloRetryRequest) this.#complete = true;
        break;
      case HANDSHAKE_TYPE.certificate:
        parseCertificate(body, facts);
        break;
      case HANDSHAKE_TYPE.certificateStatus:
        parseCertificateStatus(body, facts);
        break;
      case HANDSHAKE_TYPE.serverHelloDone:
        if (body.length !== 0) malformed('ServerHelloDone with a body');
        facts.serverHelloDone = true;
        this.#complete = true;
        break;
      default:
        break; // ServerKeyExchange, CertificateRequest, anything else: not needed
    }
  }
}

/**
 * Parses the bytes a server sent in answer to {@link buildClientHello}, as far as they go. Records
 * may end mid-way (short read): the incomplete tail is ignored and `complete` is false.
 *
 * `complete` is true once nothing more of interest can come in the clear: ServerHelloDone, a fatal
 * alert or close_notify, a TLS 1.3 ServerHello / HelloRetryRequest, ChangeCipherSpec or application
 * data. Throws {@link TlsHelloError} TLS_HELLO_MALFORMED for anything else that is not TLS.
 */
export function parseServerFlight(bytes: Uint8Array): { facts: ServerHelloFacts; complete: boolean } {
  const parser = new ServerFlightParser();
  const complete = parser.push(bytes);
  return { facts: parser.facts, complete };
}
