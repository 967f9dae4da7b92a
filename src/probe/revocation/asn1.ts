/**
 * @module probe/revocation/asn1
 * The ASN.1 of revocation: what a certificate says about it (AIA OCSP URL, CRL distribution points,
 * the RFC 7633 TLS Feature), the OCSPRequest we send (RFC 6960 §4.1), the OCSPResponse we get
 * (§4.2) and CRLs (RFC 5280 §5), each turned into plain data for the pure decisions in
 * `decide.ts`. No I/O and no clock here.
 *
 * Why pkijs and not the project's own DER walker (src/x509/der.ts): that walker is decode-only and
 * tuned for the CT hot path (names, validity, SCT lists). Revocation needs an encoder too (the
 * OCSPRequest with its CertID and nonce) and the full RFC 6960/5280 schemas (ResponderID CHOICE,
 * CertStatus CHOICE, RevokedCertificate with entry extensions, GeneralNames in distribution
 * points). pkijs is maintained (PeculiarVentures), typed, and its schema classes keep the exact
 * DER of every signed part (`tbsView`), which is what signature verification needs. Signatures are
 * verified with node:crypto (`signature.ts`), not by pkijs, so no WebCrypto engine is involved.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertvigilError } from '../../errors.js';

/** OIDs used here (RFC 5280, RFC 6960, RFC 7633, RFC 8954). */
export const OID = {
  /** RFC 5280 §4.2.2.1 authorityInfoAccess. */
  aia: '1.3.6.1.5.5.7.1.1',
  /** RFC 5280 §4.2.2.1 id-ad-ocsp. */
  adOcsp: '1.3.6.1.5.5.7.48.1',
  /** RFC 5280 §4.2.1.13 cRLDistributionPoints. */
  crlDp: '2.5.29.31',
  /** RFC 5280 §4.2.1.12 extKeyUsage and RFC 6960 §4.2.2.2 id-kp-OCSPSigning. */
  eku: '2.5.29.37',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  /** RFC 7633 §6 id-pe-tlsfeature. */
  tlsFeature: '1.3.6.1.5.5.7.1.24',
  /** RFC 6960 §4.2.1 id-pkix-ocsp-basic. */
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  /** RFC 8954 §2.1 / RFC 6960 §4.4.1 id-pkix-ocsp-nonce. */
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  /** RFC 5280 §5.3.1 reasonCode (CRL entry extension). */
  crlReason: '2.5.29.21',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/** Hash algorithms a CertID may use, by OID (RFC 6960 §4.1.1 leaves the choice to the requester). */
export const CERT_ID_HASHES: Record<string, string> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** RFC 5280 §5.3.1 CRLReason (also OCSP's revocationReason, RFC 6960 §4.2.1). 7 is unused. */
export const CRL_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

export const reasonName = (code: number | null): string | null =>
  code === null ? null : (CRL_REASONS[code] ?? `reason ${code}`);

/** What revocation needs to know about one certificate. */
export interface RevocationCert {
  der: Uint8Array;
  /** Serial as lower-case hex without leading zero octets (for comparison). */
  serialHex: string;
  /** The INTEGER's content octets, as they go into a CertID. */
  serialDer: Uint8Array;
  /** DER of the subject Name (an issuer's name hash input, RFC 6960 §4.1.1). */
  subjectDer: Uint8Array;
  /** DER of the issuer Name. */
  issuerDer: Uint8Array;
  /** subjectPublicKey BIT STRING value without the unused-bits octet (key hash input). */
  publicKeyBits: Uint8Array;
  /** DER SubjectPublicKeyInfo, for node:crypto. */
  spki: Uint8Array;
  /** RFC 5280 §4.1.1.2: the signed part, its algorithm and the signature. */
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmId;
  signature: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** id-ad-ocsp URIs of the AIA extension (RFC 5280 §4.2.2.1), in order. */
  ocspUrls: string[];
  /** URIs of the fullName of every distribution point (RFC 5280 §4.2.1.13), in order. */
  crlUrls: string[];
  /** RFC 7633: a TLS Feature extension listing status_request (5). */
  mustStaple: boolean;
  /** extKeyUsage contains id-kp-OCSPSigning (RFC 6960 §4.2.2.2). */
  ocspSigning: boolean;
  selfIssued: boolean;
}

export interface AlgorithmId {
  oid: string;
  /** DER of the parameters, when present (RSASSA-PSS needs them). */
  params: Uint8Array | null;
}

const malformed = (what: string, e?: unknown): CertvigilError =>
  new CertvigilError(
    'REVOCATION_MALFORMED',
    `${what}${e instanceof Error ? `: ${e.message.split('\n')[0] ?? ''}` : ''}`,
    e === undefined ? undefined : { cause: e },
  );

const view = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The DER of a Name as it was received (RFC 6960 §4.1.1 hashes "the DER encoding of the issuer's
 * name field in the certificate being checked"): the original bytes, not pkijs's re-encoding.
 */
const nameDer = (name: pkijs.RelativeDistinguishedNames): Uint8Array =>
  name.valueBeforeDecode.byteLength > 0
    ? new Uint8Array(name.valueBeforeDecode)
    : view(name.toSchema().toBER(false));

/** INTEGER content octets → hex without leading zero octets ("00" for zero). */
export function serialHexOf(content: Uint8Array): string {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return hex(content.subarray(i)) || '00';
}

function algorithmOf(a: pkijs.AlgorithmIdentifier): AlgorithmId {
  const p = a.algorithmParams as asn1js.AsnType | undefined;
  const params = p && !(p instanceof asn1js.Null) ? view(p.toBER(false)) : null;
  return { oid: a.algorithmId, params };
}

/** Parses DER fully: trailing bytes after the outer element are refused (strict, as CT parsing). */
function fromDer(der: Uint8Array, what: string): asn1js.AsnType {
  const parsed = asn1js.fromBER(view(der));
  if (parsed.offset === -1) throw malformed(`${what} is not DER: ${parsed.result.error}`);
  if (parsed.offset !== der.length)
    throw malformed(`${what} has ${der.length - parsed.offset} bytes after it`);
  return parsed.result;
}

function extensionValue(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

/** RFC 7633 §4: TLS Feature ::= SEQUENCE OF INTEGER; status_request is 5 (RFC 6066 §8). */
function hasStatusRequestFeature(ext: pkijs.Extension | undefined): boolean {
  if (!ext) return false;
  const inner = fromDer(ext.extnValue.valueBlock.valueHexView, 'TLS Feature extension');
  if (!(inner instanceof asn1js.Sequence)) throw malformed('TLS Feature extension is not a SEQUENCE');
  return inner.valueBlock.value.some((v) => v instanceof asn1js.Integer && v.valueBlock.valueDec === 5);
}

const uriOf = (g: pkijs.GeneralName): string | null =>
  g.type === 6 && typeof g.value === 'string' ? g.value : null;

/** Reads what revocation needs from a DER certificate; throws REVOCATION_MALFORMED. */
export function parseRevocationCert(der: Uint8Array): RevocationCert {
  let cert: pkijs.Certificate;
  try {
    cert = new pkijs.Certificate({ schema: fromDer(der, 'certificate') });
  } catch (e) {
    if (e instanceof CertvigilError) throw e;
    throw malformed('certificate cannot be parsed', e);
  }
  try {
    const aia = extensionValue(cert, OID.aia)?.parsedValue as pkijs.InfoAccess | undefined;
    const ocspUrls = (aia?.accessDescriptions ?? [])
      .filter((d) => d.accessMethod === OID.adOcsp)
      .map((d) => uriOf(d.accessLocation))
      .filter((u): u is string => u !== null);
    const dps = extensionValue(cert, OID.crlDp)?.parsedValue as pkijs.CRLDistributionPoints | undefined;
    const crlUrls: string[] = [];
    for (const dp of dps?.distributionPoints ?? []) {
      // RFC 5280 §4.2.1.13: a fullName is GeneralNames; nameRelativeToCRLIssuer has no URI.
      const full = dp.distributionPoint;
      if (Array.isArray(full))
        for (const g of full as pkijs.GeneralName[]) {
          const u = uriOf(g);
          if (u !== null) crlUrls.push(u);
        }
    }
    const eku = extensionValue(cert, OID.eku)?.parsedValue as pkijs.ExtKeyUsage | undefined;
    const subjectDer = nameDer(cert.subject);
    const issuerDer = nameDer(cert.issuer);
    return {
      der,
      serialHex: serialHexOf(cert.serialNumber.valueBlock.valueHexView),
      serialDer: new Uint8Array(cert.serialNumber.valueBlock.valueHexView),
      subjectDer,
      issuerDer,
      publicKeyBits: new Uint8Array(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView),
      spki: view(cert.subjectPublicKeyInfo.toSchema().toBER(false)),
      tbs: new Uint8Array(cert.tbsView),
      signatureAlgorithm: algorithmOf(cert.signatureAlgorithm),
      signature: new Uint8Array(cert.signatureValue.valueBlock.valueHexView),
      notBefore: cert.notBefore.value,
      notAfter: cert.notAfter.value,
      ocspUrls,
      crlUrls,
      mustStaple: hasStatusRequestFeature(extensionValue(cert, OID.tlsFeature)),
      ocspSigning: eku?.keyPurposes.includes(OID.ocspSigning) ?? false,
      selfIssued: Buffer.compare(subjectDer, issuerDer) === 0,
    };
  } catch (e) {
    if (e instanceof CertvigilError) throw e;
    throw malformed('certificate extensions cannot be parsed', e);
  }
}

/** RFC 6960 §4.1.1 CertID: hashes of the issuer's name and key, and the serial. */
export interface CertIdData {
  hashOid: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serialHex: string;
}

/** The CertID of `cert` issued by `issuer`, with the hash `hashOid` (SHA-1 by default, RFC 5019 §2.1.1). */
export function certIdFor(
  cert: RevocationCert,
  issuer: RevocationCert,
  hashOid: string = OID.sha1,
): CertIdData {
  const alg = CERT_ID_HASHES[hashOid];
  if (!alg) throw malformed(`unsupported CertID hash ${hashOid}`);
  return {
    hashOid,
    // RFC 6960 §4.1.1: issuerNameHash over the DER of the issuer's distinguished name, issuerKeyHash
    // over the value of the BIT STRING subjectPublicKey (excluding tag, length and unused bits).
    issuerNameHash: createHash(alg).update(issuer.subjectDer).digest(),
    issuerKeyHash: createHash(alg).update(issuer.publicKeyBits).digest(),
    serialHex: cert.serialHex,
  };
}

/**
 * A DER OCSPRequest (RFC 6960 §4.1.1) for one certificate, unsigned, with the nonce extension of
 * RFC 8954 §2.1 when `nonce` is given (1 to 32 octets, §2.1: "MUST be at least 1 and at most 32").
 */
export function buildOcspRequest(
  cert: RevocationCert,
  issuer: RevocationCert,
  nonce: Uint8Array | null,
): Uint8Array {
  const id = certIdFor(cert, issuer);
  const reqCert = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.sha1,
      algorithmParams: new asn1js.Null(),
    }),
    issuerNameHash: new asn1js.OctetString({ valueHex: id.issuerNameHash }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: id.issuerKeyHash }),
    serialNumber: new asn1js.Integer({ valueHex: cert.serialDer }),
  });
  const tbsRequest = new pkijs.TBSRequest({ requestList: [new pkijs.Request({ reqCert })] });
  if (nonce) {
    if (nonce.length < 1 || nonce.length > 32) throw malformed('an OCSP nonce must be 1 to 32 octets');
    tbsRequest.requestExtensions = [
      new pkijs.Extension({
        extnID: OID.ocspNonce,
        // RFC 8954 §2.1: extnValue is the DER of `Nonce ::= OCTET STRING(SIZE(1..32))`.
        extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(false),
      }),
    ];
  }
  const req = new pkijs.OCSPRequest({ tbsRequest });
  return view(req.toSchema(true).toBER(false));
}

export type OcspCertStatus =
  { kind: 'good' } | { kind: 'revoked'; revokedAt: Date; reason: number | null } | { kind: 'unknown' };

export interface OcspSingle {
  certId: CertIdData;
  status: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

export type ResponderId = { byName: Uint8Array } | { byKeyHash: Uint8Array };

export interface ParsedOcspResponse {
  /** RFC 6960 §4.2.1 OCSPResponseStatus (0 successful, 1 malformedRequest, 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized). */
  responseStatus: number;
  /** Only for a successful response of type id-pkix-ocsp-basic. */
  basic: {
    tbs: Uint8Array;
    signatureAlgorithm: AlgorithmId;
    signature: Uint8Array;
    responderId: ResponderId;
    producedAt: Date;
    responses: OcspSingle[];
    /** RFC 8954 nonce of the response, when there is one. */
    nonce: Uint8Array | null;
    /** The certificates of BasicOCSPResponse.certs (a delegated responder sends its own). */
    certs: RevocationCert[];
  } | null;
}

export const OCSP_STATUS_NAMES: Record<number, string> = {
  0: 'successful',
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

function certStatusOf(raw: asn1js.AsnType): OcspCertStatus {
  // RFC 6960 §4.2.1: CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT
  // RevokedInfo, unknown [2] IMPLICIT UnknownInfo }.
  const block = raw as asn1js.BaseBlock;
  if (block.idBlock.tagClass !== 3) throw malformed('CertStatus is not context-specific');
  const tag = block.idBlock.tagNumber;
  if (tag === 0) return { kind: 'good' };
  if (tag === 2) return { kind: 'unknown' };
  if (tag !== 1 || !(raw instanceof asn1js.Constructed)) throw malformed(`CertStatus has tag [${tag}]`);
  // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
  const [time, reason] = raw.valueBlock.value;
  if (!(time instanceof asn1js.GeneralizedTime)) throw malformed('RevokedInfo has no revocationTime');
  let code: number | null = null;
  if (reason instanceof asn1js.Constructed) {
    const e = reason.valueBlock.value[0];
    if (!(e instanceof asn1js.Enumerated)) throw malformed('revocationReason is not an ENUMERATED');
    code = e.valueBlock.valueDec;
  }
  return { kind: 'revoked', revokedAt: time.toDate(), reason: code };
}

function certIdData(c: pkijs.CertID): CertIdData {
  return {
    hashOid: c.hashAlgorithm.algorithmId,
    issuerNameHash: new Uint8Array(c.issuerNameHash.valueBlock.valueHexView),
    issuerKeyHash: new Uint8Array(c.issuerKeyHash.valueBlock.valueHexView),
    serialHex: serialHexOf(c.serialNumber.valueBlock.valueHexView),
  };
}

/** The RFC 8954 nonce in an extension list (the extnValue wraps an OCTET STRING; some send it bare). */
function nonceOf(extensions: pkijs.Extension[] | undefined): Uint8Array | null {
  const ext = extensions?.find((e) => e.extnID === OID.ocspNonce);
  if (!ext) return null;
  const raw = ext.extnValue.valueBlock.valueHexView;
  const inner = asn1js.fromBER(view(raw));
  if (inner.offset === raw.length && inner.result instanceof asn1js.OctetString)
    return new Uint8Array(inner.result.valueBlock.valueHexView);
  return new Uint8Array(raw);
}

/** Parses a DER OCSPResponse (RFC 6960 §4.2.1); throws REVOCATION_MALFORMED. Verifies nothing. */
export function parseOcspResponse(der: Uint8Array): ParsedOcspResponse {
  try {
    const outer = new pkijs.OCSPResponse({ schema: fromDer(der, 'OCSP response') });
    const responseStatus = outer.responseStatus.valueBlock.valueDec;
    if (responseStatus !== 0) return { responseStatus, basic: null };
    const bytes = outer.responseBytes;
    if (!bytes) throw malformed('successful OCSP response without responseBytes');
    if (bytes.responseType !== OID.ocspBasic)
      throw malformed(`OCSP response type ${bytes.responseType} is not id-pkix-ocsp-basic`);
    const basic = new pkijs.BasicOCSPResponse({
      schema: fromDer(bytes.response.valueBlock.valueHexView, 'BasicOCSPResponse'),
    });
    const data = basic.tbsResponseData;
    const rid = data.responderID as unknown;
    let responderId: ResponderId;
    if (rid instanceof pkijs.RelativeDistinguishedNames) responderId = { byName: nameDer(rid) };
    else if (rid instanceof asn1js.OctetString)
      responderId = { byKeyHash: new Uint8Array(rid.valueBlock.valueHexView) };
    else throw malformed('ResponderID is neither byName nor byKey');
    return {
      responseStatus,
      basic: {
        tbs: new Uint8Array(data.tbsView),
        signatureAlgorithm: algorithmOf(basic.signatureAlgorithm),
        signature: new Uint8Array(basic.signature.valueBlock.valueHexView),
        responderId,
        producedAt: data.producedAt,
        responses: data.responses.map((r) => ({
          certId: certIdData(r.certID),
          status: certStatusOf(r.certStatus as asn1js.AsnType),
          thisUpdate: r.thisUpdate,
          nextUpdate: r.nextUpdate ?? null,
        })),
        nonce: nonceOf(data.responseExtensions),
        certs: (basic.certs ?? []).map((c) =>
          c instanceof pkijs.Certificate
            ? parseRevocationCert(view(c.toSchema().toBER(false)))
            : (() => {
                throw malformed('BasicOCSPResponse.certs holds a non-certificate');
              })(),
        ),
      },
    };
  } catch (e) {
    if (e instanceof CertvigilError) throw e;
    throw malformed('OCSP response cannot be parsed', e);
  }
}

export interface CrlEntry {
  revokedAt: Date;
  reason: number | null;
}

export interface ParsedCrl {
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmId;
  signature: Uint8Array;
  issuerDer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** serial hex → entry. */
  revoked: Map<string, CrlEntry>;
}

function entryReason(entry: pkijs.RevokedCertificate): number | null {
  const ext = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === OID.crlReason);
  if (!ext) return null;
  const inner = fromDer(ext.extnValue.valueBlock.valueHexView, 'CRL reasonCode');
  if (!(inner instanceof asn1js.Enumerated)) throw malformed('CRL reasonCode is not an ENUMERATED');
  return inner.valueBlock.valueDec;
}

/** Parses a DER CertificateList (RFC 5280 §5.1); throws REVOCATION_MALFORMED. Verifies nothing. */
export function parseCrl(der: Uint8Array): ParsedCrl {
  try {
    const crl = new pkijs.CertificateRevocationList({ schema: fromDer(der, 'CRL') });
    const revoked = new Map<string, CrlEntry>();
    for (const r of crl.revokedCertificates ?? [])
      revoked.set(serialHexOf(r.userCertificate.valueBlock.valueHexView), {
        revokedAt: r.revocationDate.value,
        reason: entryReason(r),
      });
    return {
      tbs: new Uint8Array(crl.tbsView),
      signatureAlgorithm: algorithmOf(crl.signatureAlgorithm),
      signature: new Uint8Array(crl.signatureValue.valueBlock.valueHexView),
      issuerDer: nameDer(crl.issuer),
      thisUpdate: crl.thisUpdate.value,
      nextUpdate: crl.nextUpdate?.value ?? null,
      revoked,
    };
  } catch (e) {
    if (e instanceof CertvigilError) throw e;
    throw malformed('CRL cannot be parsed', e);
  }
}

/** SHA-1 of a key's BIT STRING value: the ResponderID byKey (RFC 6960 §4.2.2.3). */
export const keyHashSha1 = (c: RevocationCert): Uint8Array =>
  createHash('sha1').update(c.publicKeyBits).digest();
