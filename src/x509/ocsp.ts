/**
 * @module x509/ocsp
 * The third way SCTs reach a client (RFC 6962 §3.3): inside a stapled OCSP response, as the
 * `SignedCertificateTimestampList` extension (1.3.6.1.4.1.11129.2.4.5) of a SingleResponse.
 * This walks the OCSPResponse (RFC 6960 §4.2.1) far enough to find that extension; it does not
 * validate the response (its signature and freshness are the OCSP checker's business).
 */
import {
  bytesEqual,
  expectTlv,
  newTlv,
  oid,
  readTlv,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
} from './der.js';
import { guarded, malformed } from './errors.js';

/** id-pkix-ocsp-basic (RFC 6960 §4.2.1). */
const OID_OCSP_BASIC = oid('1.3.6.1.5.5.7.48.1.1');
/** RFC 6962 §3.3: the OCSP SingleExtension carrying the SCT list. */
export const OID_CT_OCSP_SCT_LIST = oid('1.3.6.1.4.1.11129.2.4.5');

const TAG_ENUMERATED = 0x0a;
const CONTEXT_0 = 0xa0;
const CONTEXT_1 = 0xa1;

export interface OcspSctList {
  /** Index of the SingleResponse (in `responses`) the extension was found in. */
  responseIndex: number;
  /** The TLS-encoded SignedCertificateTimestampList. */
  sctList: Uint8Array;
}

/**
 * Every SCT list in an OCSP response's SingleResponses (usually zero or one). Throws `X509Error`
 * for bytes that are not an OCSPResponse; a non-successful response has no SCTs (empty list).
 */
export function sctListsFromOcspResponse(der: Uint8Array): OcspSctList[] {
  return guarded('OCSPResponse', () => {
    const t = newTlv();
    const top = expectTlv(der, 0, der.length, TAG_SEQUENCE, t, 'OCSPResponse');
    if (top.end !== der.length) malformed('OCSPResponse', top.end, 'trailing bytes');
    const status = expectTlv(der, top.contentStart, top.end, TAG_ENUMERATED, newTlv(), 'responseStatus');
    // RFC 6960 §4.2.1: only "successful" (0) responses carry responseBytes.
    if (status.end - status.contentStart !== 1 || der[status.contentStart] !== 0 || status.end === top.end)
      return [];
    const wrapped = expectTlv(der, status.end, top.end, CONTEXT_0, newTlv(), 'responseBytes');
    const responseBytes = expectTlv(
      der,
      wrapped.contentStart,
      wrapped.end,
      TAG_SEQUENCE,
      newTlv(),
      'ResponseBytes',
    );
    const type = expectTlv(
      der,
      responseBytes.contentStart,
      responseBytes.end,
      TAG_OID,
      newTlv(),
      'responseType',
    );
    if (!bytesEqual(der, type.contentStart, type.end, OID_OCSP_BASIC)) return [];
    const octets = expectTlv(der, type.end, responseBytes.end, TAG_OCTET_STRING, newTlv(), 'response');
    return fromBasicResponse(der.subarray(octets.contentStart, octets.end));
  });
}

function fromBasicResponse(b: Uint8Array): OcspSctList[] {
  const basic = expectTlv(b, 0, b.length, TAG_SEQUENCE, newTlv(), 'BasicOCSPResponse');
  const data = expectTlv(b, basic.contentStart, basic.end, TAG_SEQUENCE, newTlv(), 'tbsResponseData');
  let pos = data.contentStart;
  const el = newTlv();
  readTlv(b, pos, data.end, el, 'ResponseData');
  if (el.tag === CONTEXT_0) pos = el.end; // version [0] EXPLICIT, DEFAULT v1
  pos = readTlv(b, pos, data.end, el, 'responderID').end; // [1] byName or [2] byKey
  pos = readTlv(b, pos, data.end, el, 'producedAt').end;
  const responses = expectTlv(b, pos, data.end, TAG_SEQUENCE, newTlv(), 'responses');
  const out: OcspSctList[] = [];
  let index = 0;
  for (let p = responses.contentStart; p < responses.end; index++) {
    const single = expectTlv(b, p, responses.end, TAG_SEQUENCE, newTlv(), `responses[${index}]`);
    p = single.end;
    const list = sctListInSingleResponse(b, single.contentStart, single.end, index);
    if (list) out.push({ responseIndex: index, sctList: list });
  }
  return out;
}

/** SingleResponse: certID, certStatus, thisUpdate, [0] nextUpdate OPTIONAL, [1] singleExtensions OPTIONAL. */
function sctListInSingleResponse(
  b: Uint8Array,
  start: number,
  end: number,
  index: number,
): Uint8Array | null {
  const what = `responses[${index}]`;
  const el = newTlv();
  let pos = readTlv(b, start, end, el, `${what}.certID`).end;
  pos = readTlv(b, pos, end, el, `${what}.certStatus`).end;
  pos = readTlv(b, pos, end, el, `${what}.thisUpdate`).end;
  let found: Uint8Array | null = null;
  while (pos < end) {
    readTlv(b, pos, end, el, `${what} field`);
    pos = el.end;
    if (el.tag !== CONTEXT_1) continue;
    const exts = expectTlv(b, el.contentStart, el.end, TAG_SEQUENCE, newTlv(), `${what}.singleExtensions`);
    for (let q = exts.contentStart; q < exts.end;) {
      const ext = expectTlv(b, q, exts.end, TAG_SEQUENCE, newTlv(), 'Extension');
      q = ext.end;
      const id = expectTlv(b, ext.contentStart, ext.end, TAG_OID, newTlv(), 'extnID');
      if (!bytesEqual(b, id.contentStart, id.end, OID_CT_OCSP_SCT_LIST)) continue;
      let v = readTlv(b, id.end, ext.end, newTlv(), 'extnValue');
      if (v.tag === 0x01) v = readTlv(b, v.end, ext.end, newTlv(), 'extnValue'); // critical BOOLEAN
      if (v.tag !== TAG_OCTET_STRING) malformed('extnValue', v.start, 'expected OCTET STRING');
      // RFC 6962 §3.3: as in the certificate extension, the list is itself wrapped in an OCTET STRING.
      const inner = expectTlv(
        b,
        v.contentStart,
        v.end,
        TAG_OCTET_STRING,
        newTlv(),
        'SignedCertificateTimestampList',
      );
      // As embeddedSctList does for a certificate: nothing may follow the list, and a second
      // instance (RFC 5280 §4.2, which RFC 6960 §4.4 extensions follow) is malformed rather than
      // silently shadowed by the first.
      if (inner.end !== v.end)
        malformed('SignedCertificateTimestampList', inner.end, 'extra data after the list');
      if (found !== null) malformed('SignedCertificateTimestampList', ext.start, 'duplicate extension');
      found = b.subarray(inner.contentStart, inner.end);
    }
  }
  return found;
}
