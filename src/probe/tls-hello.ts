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
 *
 * This file keeps the import path its callers use; the work is in `tls-hello/`, one file per job:
 * - `tls-hello/hello-error.ts`: `TlsHelloError` (its codes are in `probe/errors.ts`);
 * - `tls-hello/constants.ts`: the TLS code points (content, handshake, extension types, versions);
 * - `tls-hello/client-hello.ts`: the ClientHello builder (`buildClientHello`, `sniHostName`);
 * - `tls-hello/byte-reader.ts`: the bounds-checked `Reader` and the `ByteQueue` of records;
 * - `tls-hello/facts.ts`: `ServerHelloFacts`, what a flight tells us;
 * - `tls-hello/messages.ts`: ServerHello, Certificate and CertificateStatus bodies;
 * - `tls-hello/server-flight.ts`: records → messages (`ServerFlightParser`, `parseServerFlight`);
 * - `tls-hello/connection.ts`: the socket loop (`readServerHello`, `probeTlsExtensionScts`).
 */
export type { TlsHelloErrorCode } from './tls-hello/hello-error.js';
export { TlsHelloError } from './tls-hello/hello-error.js';
export { CONTENT_TYPE, EXTENSION_TYPE, HANDSHAKE_TYPE } from './tls-hello/constants.js';
export { HELLO_RETRY_REQUEST_RANDOM, TLS_1_2, TLS_1_3 } from './tls-hello/constants.js';
export type { ClientHelloOptions } from './tls-hello/client-hello.js';
export { DEFAULT_CIPHER_SUITES, buildClientHello, sniHostName } from './tls-hello/client-hello.js';
export type { ServerHelloFacts } from './tls-hello/facts.js';
export { ServerFlightParser, parseServerFlight } from './tls-hello/server-flight.js';
export type { ReadServerHelloOptions } from './tls-hello/connection.js';
export { DEFAULT_MAX_BYTES, probeTlsExtensionScts, readServerHello } from './tls-hello/connection.js';
