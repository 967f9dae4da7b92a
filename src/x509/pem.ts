/**
 * @module x509/pem
 * Certificates out of PEM text (RFC 7468 §5): every `-----BEGIN CERTIFICATE-----` block (and its
 * historical `X509 CERTIFICATE` form), in order,
 * with whatever surrounds them ignored — an `openssl x509 -text` dump before the block, chain
 * files, comments. The contents are not parsed here; hand them to `summarizeCertificate`.
 */
import { X509Error } from './errors.js';

/**
 * RFC 7468 §5.1: "Historically, the label "X509 CERTIFICATE" and, less commonly, "X.509
 * CERTIFICATE" have been used. […] parsers MAY treat these labels as equivalent to
 * "CERTIFICATE"." OpenSSL's PEM_read_bio_X509 reads "X509 CERTIFICATE" (pem_lib.c check_pem), so
 * an inventory file in that form holds a certificate; ignoring it hid the certificate.
 * "TRUSTED CERTIFICATE" is OpenSSL's own format (a certificate followed by trust settings) and is
 * not a Certificate: not read.
 */
const BEGIN_RE = /-----BEGIN (X\.?509 )?CERTIFICATE-----/g;
/** RFC 7468 §3 lax parsing: whitespace (including CR/LF) may appear anywhere in the base64 text. */
const WHITESPACE_RE = /[ \t\r\n\v\f]+/g;
/** RFC 4648 §4 alphabet with padding only at the end, in whole 4-character groups. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes every CERTIFICATE block of `text`. Throws `X509Error` `X509_BAD_PEM` for a block
 * without its END line or whose body is not base64 (Node's decoder would silently skip bad
 * characters, turning a damaged file into a damaged certificate). Other PEM labels are ignored.
 */
export function parsePemCertificates(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (;;) {
    BEGIN_RE.lastIndex = from;
    const match = BEGIN_RE.exec(text);
    if (match === null) return out;
    const begin = match.index;
    const bodyStart = begin + match[0].length;
    const END = `-----END ${match[1] ?? ''}CERTIFICATE-----`;
    const end = text.indexOf(END, bodyStart);
    if (end < 0) throw new X509Error('X509_BAD_PEM', `PEM block at offset ${begin} has no END line`, begin);
    const body = text.slice(bodyStart, end).replace(WHITESPACE_RE, '');
    if (body.length === 0 || !BASE64_RE.test(body)) {
      throw new X509Error('X509_BAD_PEM', `PEM block at offset ${begin} is not valid base64`, begin);
    }
    // A copy, not a view of Node's shared pool slab, so callers may keep or transfer it freely.
    out.push(new Uint8Array(Buffer.from(body, 'base64')));
    from = end + END.length;
  }
}
