/**
 * @module probe/tls-hello/constants
 * The TLS code points (IANA TLS registries) the raw hello sends or reads: content types (RFC 5246
 * §6.2.1), handshake types (RFC 5246 §7.4, RFC 6066 §8), extension types, protocol versions and the
 * HelloRetryRequest random (RFC 8446 §4.1.3). Shared by the ClientHello builder, the server-flight
 * parser and the TLS policy probe, so each number is written once.
 */

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
