/**
 * @module probe/tls-hello/facts
 * What the raw hello learns from a server's first flight (`ServerHelloFacts`): the negotiated
 * version and suite, the ServerHello extensions (RFC 5246 §7.4.1.3) with the SCT list of RFC 6962
 * §3.3.1, the certificates (RFC 5246 §7.4.2), the stapled OCSP response (RFC 6066 §8) and the last
 * alert (RFC 5246 §7.2). Its own file because the parsers fill it, the socket loop returns it and
 * `TlsHelloError` carries a partial one.
 */

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

export const emptyFacts = (): ServerHelloFacts => ({
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
