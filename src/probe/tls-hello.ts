/**
 * @module probe/tls-hello
 * The third SCT delivery of RFC 6962 §3.3 — the TLS extension `signed_certificate_timestamp`
 * (type 18, §3.3.1) — cannot be requested or read through Node's TLS API. So we speak just enough
 * TLS ourselves: send one TLS 1.2 ClientHello (RFC 5246 §7.4.1.2) that asks for SCTs (empty type-18
 * extension) and a stapled OCSP response (RFC 6066 §8 status_request), then read the server's
 * plaintext first flight — ServerHello, Certificate, CertificateStatus, …, ServerHelloDone — and
 * hang up. No key exchange, no crypto: the handshake is never completed.
 *
 * We deliberately offer no `supported_versions` extension, so a server negotiates TLS 1.2 at most
 * and its Certificate and CertificateStatus messages travel in the clear. A TLS 1.3-only server
 * answers with an alert (protocol_version) or, if it ignores the rules, a TLS 1.3 ServerHello /
 * HelloRetryRequest (RFC 8446 §4.1.3, recognised by its fixed `random`); we then report what we saw,
 * with `sctList` null, and stop: everything after a TLS 1.3 ServerHello is encrypted.
 *
 * The reader is split into a pure, incremental parser ({@link ServerFlightParser}, fed chunk by chunk
 * in linear time; {@link parseServerFlight} for one buffer — tested and fuzzed without sockets) and
 * a socket loop ({@link readServerHello}) that bounds time and bytes (default 256 KiB). Any failure
 * is a {@link TlsHelloError} with a TLS_HELLO_* code, never a stray RangeError.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { domainToASCII } from 'node:url';
import { CertvigilError } from '../errors.js';
import type { TlsHelloErrorCode } from './errors.js';

export type { TlsHelloErrorCode } from './errors.js';

export class TlsHelloError extends CertvigilError {
  declare readonly code: TlsHelloErrorCode;
  /** What had been parsed when the error happened (for CLOSED / TIMEOUT / TOO_LARGE), if anything. */
  readonly partial: ServerHelloFacts | undefined;

  constructor(
    code: TlsHelloErrorCode,
    message: string,
    options?: { cause?: unknown; partial?: ServerHelloFacts },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TlsHelloError';
    this.partial = options?.partial;
  }
}

// ---------------------------------------------------------------------------------------------
// Constants (IANA TLS registries)

/** RFC 5246 §6.2.1 ContentType. */
export const CONTENT_TYPE = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;

/** RFC 5246 §7.4 / RFC 6066 §8 HandshakeType values of a TLS 1.2 first flight. */
export const HANDSHAKE_TYPE = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateStatus: 22,
} as const;

/** ExtensionType values we send or read. */
export const EXTENSION_TYPE = {
  serverName: 0, // RFC 6066 §3
  statusRequest: 5, // RFC 6066 §8
  supportedGroups: 10, // RFC 8422 §5.1.1 (was elliptic_curves)
  ecPointFormats: 11, // RFC 8422 §5.1.2
  signatureAlgorithms: 13, // RFC 5246 §7.4.1.4.1, RFC 8446 §4.2.3
  signedCertificateTimestamp: 18, // RFC 6962 §3.3.1
  padding: 21, // RFC 7685
  extendedMasterSecret: 23, // RFC 7627
  supportedVersions: 43, // RFC 8446 §4.2.1
  keyShare: 51, // RFC 8446 §4.2.8
  renegotiationInfo: 0xff01, // RFC 5746
} as const;

export const TLS_1_2 = 0x0303;
export const TLS_1_3 = 0x0304;

/**
 * RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello whose `random` is SHA-256("HelloRetryRequest").
 */
export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
);

/**
 * TLS 1.2 suites, strongest first: ECDHE with AES-GCM and ChaCha20-Poly1305 (RFC 5289, RFC 7905),
 * then DHE and static-RSA GCM (RFC 5288), then CBC for old servers (RFC 4492, RFC 5246). We never
 * finish the handshake, so offering old suites costs nothing and keeps old servers talking.
 */
export const DEFAULT_CIPHER_SUITES: readonly number[] = [
  0xc02b, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  0xc02f, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  0xc02c, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
  0xc030, // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
  0xcca9, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  0xcca8, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
  0x009e, // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
  0x009f, // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
  0x009c, // TLS_RSA_WITH_AES_128_GCM_SHA256
  0x009d, // TLS_RSA_WITH_AES_256_GCM_SHA384
  0xc009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
  0xc013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
  0xc00a, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
  0xc014, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
  0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
  0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
];

/** RFC 8446 §4.2.7 NamedGroup: x25519, secp256r1, secp384r1, secp521r1, x448, ffdhe2048. */
const SUPPORTED_GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100];

/** RFC 8446 §4.2.3 SignatureScheme (the TLS 1.2 hash/signature pairs of RFC 5246 §7.4.1.4.1 included). */
const SIGNATURE_SCHEMES = [
  0x0403, // ecdsa_secp256r1_sha256
  0x0804, // rsa_pss_rsae_sha256
  0x0401, // rsa_pkcs1_sha256
  0x0503, // ecdsa_secp384r1_sha384
  0x0805, // rsa_pss_rsae_sha384
  0x0501, // rsa_pkcs1_sha384
  0x0603, // ecdsa_secp521r1_sha512
  0x0806, // rsa_pss_rsae_sha512
  0x0601, // rsa_pkcs1_sha512
  0x0807, // ed25519
  0x0808, // ed448
  0x0809, // rsa_pss_pss_sha256
  0x080a, // rsa_pss_pss_sha384
  0x080b, // rsa_pss_pss_sha512
  0x0201, // rsa_pkcs1_sha1
  0x0203, // ecdsa_sha1
];

/** RFC 5246 §6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes. */
const MAX_RECORD_LENGTH = 2 ** 14 + 2048;
export const DEFAULT_MAX_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// ClientHello

export interface ClientHelloOptions {
  /**
   * SNI host name (RFC 6066 §3). `null`, or an IP literal (which §3 forbids as a HostName), omits
   * the extension. A trailing dot is removed; IDNs are sent as A-labels.
   */
  serverName: string | null;
  /** 32 bytes; default random. Fixed values make the hello reproducible in tests. */
  random?: Uint8Array;
  /** Default {@link DEFAULT_CIPHER_SUITES}. */
  cipherSuites?: readonly number[];
  /** Ask for a stapled OCSP response (status_request); default true. */
  requestOcsp?: boolean;
  /** Ask for SCTs (empty signed_certificate_timestamp); default true. */
  requestScts?: boolean;
  /**
   * `client_version`: the highest version offered (RFC 5246 §7.4.1.2, Appendix E.1); default
   * TLS 1.2. Below TLS 1.2 the signature_algorithms extension is left out (RFC 5246 §7.4.1.4.1).
   */
  clientVersion?: number;
  /**
   * Send `supported_versions` (RFC 8446 §4.2.1) with these versions, and, when TLS 1.3 is among
   * them, an empty `key_share` (§4.2.8: "MAY be empty if the client is requesting a
   * HelloRetryRequest") so the server answers in the clear without any key exchange on our side.
   */
  supportedVersions?: readonly number[];
}

const u8 = (n: number): number[] => [n & 0xff];
const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const u24 = (n: number): number[] => [(n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const vec8 = (body: number[]): number[] => [...u8(body.length), ...body];
const vec16 = (body: number[]): number[] => [...u16(body.length), ...body];
const extension = (type: number, body: number[]): number[] => [...u16(type), ...vec16(body)];

/** The SNI value to send, or null when none may be sent. */
export function sniHostName(serverName: string | null): string | null {
  if (serverName === null) return null;
  let name = serverName.endsWith('.') ? serverName.slice(0, -1) : serverName;
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name === '' || isIP(name) !== 0) return null;
  // RFC 6066 §3: "HostName" is the ASCII (A-label) form of the DNS name.
  const ascii = /^[\x21-\x7e]+$/.test(name) ? name : domainToASCII(name);
  if (ascii === '' || ascii.length > 253 || !/^[\x21-\x7e]+$/.test(ascii))
    throw new TlsHelloError('TLS_HELLO_BAD_NAME', `cannot send ${JSON.stringify(serverName)} as SNI`);
  return ascii;
}

/**
 * One TLS record holding a TLS 1.2 ClientHello (RFC 5246 §7.4.1.2) with the extensions listed in
 * the module comment, padded (RFC 7685) out of the 256..511-byte range some old load balancers hang on.
 */
export function buildClientHello(options: ClientHelloOptions): Uint8Array {
  const random = options.random ?? randomBytes(32);
  if (random.length !== 32) throw new RangeError('ClientHello random must be 32 bytes');
  const host = sniHostName(options.serverName);
  const extensions: number[] = [];
  if (host !== null) {
    const name = [...Buffer.from(host, 'ascii')];
    // ServerNameList: NameType host_name(0), HostName<1..2^16-1> (RFC 6066 §3).
    extensions.push(...extension(EXTENSION_TYPE.serverName, vec16([0, ...vec16(name)])));
  }
  // CertificateStatusRequest: status_type ocsp(1), responder_id_list<0..>, request_extensions<0..>.
  if (options.requestOcsp !== false)
    extensions.push(...extension(EXTENSION_TYPE.statusRequest, [1, 0, 0, 0, 0]));
  // RFC 6962 §3.3.1: "extension_data" is empty in the ClientHello.
  if (options.requestScts !== false)
    extensions.push(...extension(EXTENSION_TYPE.signedCertificateTimestamp, []));
  extensions.push(...extension(EXTENSION_TYPE.supportedGroups, vec16(SUPPORTED_GROUPS.flatMap(u16))));
  extensions.push(...extension(EXTENSION_TYPE.ecPointFormats, vec8([0]))); // uncompressed
  const clientVersion = options.clientVersion ?? TLS_1_2;
  if (clientVersion >= TLS_1_2)
    extensions.push(...extension(EXTENSION_TYPE.signatureAlgorithms, vec16(SIGNATURE_SCHEMES.flatMap(u16))));
  if (options.supportedVersions !== undefined) {
    extensions.push(
      ...extension(EXTENSION_TYPE.supportedVersions, vec8(options.supportedVersions.flatMap(u16))),
    );
    if (options.supportedVersions.includes(TLS_1_3))
      extensions.push(...extension(EXTENSION_TYPE.keyShare, vec16([])));
  }
  extensions.push(...extension(EXTENSION_TYPE.extendedMasterSecret, []));
  extensions.push(...extension(EXTENSION_TYPE.renegotiationInfo, vec8([]))); // initial: empty (RFC 5746 §3.4)
  const suites = options.cipherSuites ?? DEFAULT_CIPHER_SUITES;
  const head = [
    ...u16(clientVersion),
    ...random,
    ...vec8([]), // session_id: no resumption
    ...vec16(suites.flatMap(u16)),
    ...vec8([0]), // compression_methods: null only
  ];
  // RFC 7685 §4 / the F5 workaround: keep the handshake message out of 256..511 bytes.
  const bodyLength = head.length + 2 + extensions.length;
  const messageLength = 4 + bodyLength;
  if (messageLength >= 256 && messageLength < 512) {
    const pad = Math.max(0, 512 - messageLength - 4);
    extensions.push(...extension(EXTENSION_TYPE.padding, new Array<number>(pad).fill(0)));
  }
  const body = [...head, ...vec16(extensions)];
  const handshake = [HANDSHAKE_TYPE.clientHello, ...u24(body.length), ...body];
  // RFC 8446 §5.1 / RFC 5246 Appendix E.1: the first record's version is 0x0301 for compatibility.
  return Uint8Array.from([CONTENT_TYPE.handshake, ...u16(0x0301), ...u16(handshake.length), ...handshake]);
}

// ---------------------------------------------------------------------------------------------
// Server flight parser

export interface ServerHelloFacts {
  /**
   * Negotiated version: `supported_versions` (RFC 8446 §4.2.1) if the ServerHello has it, else
   * `server_version` (0x0303 = TLS 1.2). 0 when no ServerHello arrived (e.g. only an alert).
   */
  version: number;
  /** 0 when no ServerHello arrived. */
  cipherSuite: number;
  /** ServerHello extensions in wire order. */
  extensions: { type: number; data: Uint8Array }[];
  /** Contents of the type-18 extension: a SignedCertificateTimestampList (RFC 6962 §3.3). */
  sctList: Uint8Array | null;
  /** DER certificates of the Certificate message (RFC 5246 §7.4.2), leaf first; [] if none arrived. */
  certificates: Uint8Array[];
  /** DER OCSPResponse from CertificateStatus (RFC 6066 §8), if any. */
  ocspResponse: Uint8Array | null;
  /** The last alert received (RFC 5246 §7.2); a fatal one ends the flight. */
  alert: { level: number; description: number } | null;
  /** The ServerHello was a TLS 1.3 HelloRetryRequest (RFC 8446 §4.1.3). */
  helloRetryRequest: boolean;
  /** ServerHelloDone arrived: the whole TLS 1.2 first flight was read. */
  serverHelloDone: boolean;
}

const emptyFacts = (): ServerHelloFacts => ({
  version: 0,
  cipherSuite: 0,
  extensions: [],
  sctList: null,
  certificates: [],
  ocspResponse: null,
  alert: null,
  helloRetryRequest: false,
  serverHelloDone: false,
});

const malformed = (message: string): never => {
  throw new TlsHelloError('TLS_HELLO_MALFORMED', message);
};

/** A bounds-checked reader over one structure (a handshake message body or a vector's content). */
class Reader {
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

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 8);
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  return printable
    ? `text ${JSON.stringify(Buffer.from(head).toString('latin1'))}`
    : Buffer.from(head).toString('hex');
}

function parseServerHello(body: Uint8Array, facts: ServerHelloFacts): void {
  // RFC 5246 §7.4.1.3: server_version, random, session_id<0..32>, cipher_suite, compression_method,
  // extensions<0..2^16-1> (absent altogether when empty).
  const r = new Reader(body, 'ServerHello');
  facts.version = r.uint(2, 'server_version');
  if (facts.version >> 8 !== 3) malformed(`ServerHello: server_version 0x${facts.version.toString(16)}`);
  const random = r.take(32, 'random');
  facts.helloRetryRequest = equalBytes(random, HELLO_RETRY_REQUEST_RANDOM);
  const sessionId = r.vector(1, 'session_id');
  if (sessionId.length > 32) malformed(`ServerHello: session_id of ${sessionId.length} bytes`);
  facts.cipherSuite = r.uint(2, 'cipher_suite');
  r.uint(1, 'compression_method');
  if (r.remaining === 0) return;
  const exts = new Reader(r.vector(2, 'extensions'), 'ServerHello extensions');
  r.done();
  const seen = new Set<number>();
  while (exts.remaining > 0) {
    const type = exts.uint(2, 'extension_type');
    const data = exts.vector(2, `extension ${type}`);
    // RFC 5246 §7.4.1.4: "There MUST NOT be more than one extension of the same type."
    if (seen.has(type)) malformed(`ServerHello: extension ${type} appears twice`);
    seen.add(type);
    const copy = data.slice(); // the input buffer is reused: keep copies
    facts.extensions.push({ type, data: copy });
    if (type === EXTENSION_TYPE.signedCertificateTimestamp) facts.sctList = copy;
    if (type === EXTENSION_TYPE.supportedVersions) {
      // RFC 8446 §4.2.1: ServerHello carries selected_version only.
      if (data.length !== 2) malformed(`ServerHello: supported_versions of ${data.length} bytes`);
      facts.version = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
    }
  }
  // Anything TLS 1.3 sends after its ServerHello is encrypted; an SCT extension there is not ours.
  if (facts.version >= TLS_1_3 || facts.helloRetryRequest) facts.sctList = null;
}

function parseCertificate(body: Uint8Array, facts: ServerHelloFacts): void {
  // RFC 5246 §7.4.2: ASN.1Cert certificate_list<0..2^24-1>, each ASN.1Cert<1..2^24-1>.
  const r = new Reader(body, 'Certificate');
  const list = new Reader(r.vector(3, 'certificate_list'), 'certificate_list');
  r.done();
  const certificates: Uint8Array[] = [];
  while (list.remaining > 0) {
    const cert = list.vector(3, 'ASN.1Cert');
    if (cert.length === 0) malformed('Certificate: empty ASN.1Cert');
    certificates.push(cert.slice());
  }
  facts.certificates = certificates;
}

function parseCertificateStatus(body: Uint8Array, facts: ServerHelloFacts): void {
  // RFC 6066 §8: CertificateStatusType status_type (ocsp = 1), OCSPResponse ocsp_response<1..2^24-1>.
  const r = new Reader(body, 'CertificateStatus');
  const type = r.uint(1, 'status_type');
  if (type !== 1) return; // not OCSP (e.g. RFC 6961 ocsp_multi): nothing we read
  const response = r.vector(3, 'ocsp_response');
  r.done();
  if (response.length === 0) malformed('CertificateStatus: empty ocsp_response');
  facts.ocspResponse = response.slice();
}

/**
 * A FIFO of bytes with amortised O(1) append and consume: the record layer's input, and the
 * handshake stream reassembled from record fragments. Views into it are only valid until the next
 * append, so everything kept in the facts is copied out.
 */
class ByteQueue {
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

// ---------------------------------------------------------------------------------------------
// Socket loop

export interface ReadServerHelloOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Give up (TLS_HELLO_TOO_LARGE) after this many bytes without a complete flight; default 256 KiB. */
  maxBytes?: number;
}

/**
 * Reads from `socket` until {@link parseServerFlight} reports a complete flight, within `timeoutMs`
 * and `maxBytes`. Does not write and does not close the socket; its listeners (including the
 * 'error' one) are removed on return, so a caller that keeps the socket must handle its errors.
 * A socket still connecting is fine: a refused connection is TLS_HELLO_NETWORK, and the
 * connect time counts against `timeoutMs`.
 */
export function readServerHello(socket: Socket, options: ReadServerHelloOptions): Promise<ServerHelloFacts> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise<ServerHelloFacts>((resolve, reject) => {
    const parser = new ServerFlightParser();
    let received = 0;
    let settled = false;

    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (code: TlsHelloErrorCode, message: string, cause?: unknown): void => {
      if (settled) return;
      cleanup();
      const extra: { cause?: unknown; partial?: ServerHelloFacts } = {};
      if (cause !== undefined) extra.cause = cause;
      if (received > 0) extra.partial = parser.facts;
      reject(new TlsHelloError(code, message, extra));
    };
    const onData = (chunk: Buffer | string): void => {
      if (settled) return;
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      const take = buffer.subarray(0, Math.max(0, maxBytes - received));
      received += buffer.length;
      let complete: boolean;
      try {
        complete = parser.push(take);
      } catch (err) {
        if (err instanceof TlsHelloError) fail(err.code, err.message, err.cause);
        else fail('TLS_HELLO_MALFORMED', `TLS parser failed: ${String(err)}`, err);
        return;
      }
      if (complete) {
        cleanup();
        resolve(parser.facts);
      } else if (received >= maxBytes) {
        fail('TLS_HELLO_TOO_LARGE', `no complete server flight in ${maxBytes} bytes`);
      }
    };
    const onEnd = (): void =>
      fail(
        'TLS_HELLO_CLOSED',
        `connection closed after ${received} bytes, before the server flight was complete`,
      );
    const onError = (err: Error): void => fail('TLS_HELLO_NETWORK', `socket error: ${err.message}`, err);
    const onAbort = (): void => fail('TLS_HELLO_ABORTED', 'aborted', options.signal?.reason);
    const timer = setTimeout(
      () =>
        fail(
          'TLS_HELLO_TIMEOUT',
          `no complete server flight within ${options.timeoutMs} ms (${received} bytes)`,
        ),
      options.timeoutMs,
    );

    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    // A socket handed over paused (negotiateStartTls leaves it so) does not flow again just
    // because a 'data' listener was added: resume it explicitly.
    socket.resume();
    if (socket.destroyed) onEnd();
  });
}

/**
 * Writes {@link buildClientHello} for `serverName` to a connected (or connecting) socket, reads the
 * server's first flight, and destroys the socket whatever happens: the handshake is never finished.
 */
export async function probeTlsExtensionScts(
  socket: Socket,
  serverName: string | null,
  options: ReadServerHelloOptions & Omit<ClientHelloOptions, 'serverName'>,
): Promise<ServerHelloFacts> {
  try {
    const hello = buildClientHello({ ...options, serverName });
    const reading = readServerHello(socket, options);
    socket.write(hello, () => undefined); // write errors surface as 'error' events, read above
    return await reading;
  } finally {
    socket.destroy();
  }
}
