/**
 * @module probe/tls-hello/messages
 * The three handshake messages of a TLS 1.2 first flight whose contents the raw hello keeps:
 * ServerHello (RFC 5246 §7.4.1.3, with supported_versions of RFC 8446 §4.2.1 and the
 * HelloRetryRequest random of §4.1.3), Certificate (RFC 5246 §7.4.2) and CertificateStatus
 * (RFC 6066 §8). Each parser reads one message body strictly (trailing bytes, duplicate extensions
 * and empty certificates are TLS_HELLO_MALFORMED) into the flight's `ServerHelloFacts`.
 */
import { Reader, malformed } from './byte-reader.js';
import { EXTENSION_TYPE, HELLO_RETRY_REQUEST_RANDOM, TLS_1_3 } from './constants.js';
import type { ServerHelloFacts } from './facts.js';

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

export function parseServerHello(body: Uint8Array, facts: ServerHelloFacts): void {
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

export function parseCertificate(body: Uint8Array, facts: ServerHelloFacts): void {
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

export function parseCertificateStatus(body: Uint8Array, facts: ServerHelloFacts): void {
  // RFC 6066 §8: CertificateStatusType status_type (ocsp = 1), OCSPResponse ocsp_response<1..2^24-1>.
  const r = new Reader(body, 'CertificateStatus');
  const type = r.uint(1, 'status_type');
  if (type !== 1) return; // not OCSP (e.g. RFC 6961 ocsp_multi): nothing we read
  const response = r.vector(3, 'ocsp_response');
  r.done();
  if (response.length === 0) malformed('CertificateStatus: empty ocsp_response');
  facts.ocspResponse = response.slice();
}
