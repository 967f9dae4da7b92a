/**
 * @module probe/tls-hello/client-hello
 * The ClientHello the raw hello sends: one TLS record (RFC 5246 §6.2.1) holding a TLS 1.2
 * ClientHello (RFC 5246 §7.4.1.2) that asks for SCTs (an empty signed_certificate_timestamp
 * extension, RFC 6962 §3.3.1) and a stapled OCSP response (status_request, RFC 6066 §8), with SNI
 * (RFC 6066 §3) and, on request, supported_versions / an empty key_share (RFC 8446 §4.2.1, §4.2.8).
 *
 * Why no supported_versions by default: without it a server negotiates TLS 1.2 at most, so its
 * Certificate and CertificateStatus travel in the clear and can be read without any key exchange.
 * The TLS policy probe passes `clientVersion` / `supportedVersions` to ask other questions.
 */
import { randomBytes } from 'node:crypto';
import { ipVersion } from '../ip-literal.js';
import { domainToASCII } from 'node:url';
import { CONTENT_TYPE, EXTENSION_TYPE, HANDSHAKE_TYPE, TLS_1_2, TLS_1_3 } from './constants.js';
import { TlsHelloError } from './hello-error.js';

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
  if (name === '' || ipVersion(name) !== 0) return null;
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
  // A caller's bug, not bad input: only tests pass `random`, and nothing outside src/probe/ can
  // (probeTlsExtensionScts is not in probe/index.ts), so no plain Error leaves the probe module.
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
