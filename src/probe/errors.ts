/**
 * @module probe/errors
 * Every error code of the `probe` module (the external check, JARM, STARTTLS, traceroute,
 * revocation), declared once here and added to the registry in src/errors.ts. Each is "could not
 * decide" for the check that hit it: the plugin turns it into UNKNOWN or a finding, never OK.
 */

/** The connection of the external check (connect.ts, handshake.ts, endpoint.ts). */
interface ProbeErrorCodes {
  /** The TCP connection (or the proxy's CONNECT) failed. */
  PROBE_CONNECT: 'probe';
  /** The TLS handshake failed. */
  PROBE_TLS: 'probe';
  /** The connection, the handshake or the whole check ran out of time. */
  PROBE_TIMEOUT: 'probe';
}

/** The raw TLS 1.2 hello reader (tls-hello.ts): bad bytes, limits, and the connection's fate. */
interface TlsHelloErrorCodes {
  /** The bytes are not a TLS server flight (or break its grammar). */
  TLS_HELLO_MALFORMED: 'probe';
  /** The flight did not complete within `timeoutMs`. */
  TLS_HELLO_TIMEOUT: 'probe';
  /** More than `maxBytes` arrived without completing the flight. */
  TLS_HELLO_TOO_LARGE: 'probe';
  /** The peer closed the connection before the flight was complete (no alert). */
  TLS_HELLO_CLOSED: 'probe';
  /** The caller's AbortSignal fired. */
  TLS_HELLO_ABORTED: 'probe';
  /** The socket reported an error (ECONNRESET, ...). */
  TLS_HELLO_NETWORK: 'probe';
  /** The server name cannot be sent as an RFC 6066 §3 HostName. */
  TLS_HELLO_BAD_NAME: 'probe';
}

/** STARTTLS negotiation (starttls/): refused or malformed dialogue; no answer in time. */
interface StartTlsErrorCodes {
  STARTTLS_FAILED: 'probe';
  STARTTLS_TIMEOUT: 'probe';
}

/** TCP traceroute (traceroute.ts): the tool failed, lacks CAP_NET_RAW, ran too long, was aborted. */
interface TraceErrorCodes {
  TRACE_FAILED: 'probe';
  TRACE_PRIVILEGE: 'probe';
  TRACE_TIMEOUT: 'probe';
  TRACE_ABORTED: 'probe';
}

/**
 * Revocation (revocation/): an OCSP response or CRL that is not what RFC 6960/5280 say; its
 * download failed, was too large, or ran out of time.
 */
interface RevocationErrorCodes {
  REVOCATION_MALFORMED: 'probe';
  REVOCATION_HTTP: 'probe';
  REVOCATION_TOO_LARGE: 'probe';
  REVOCATION_TIMEOUT: 'probe';
}

declare module '../errors.js' {
  interface ErrorCodes
    extends ProbeErrorCodes, TlsHelloErrorCodes, StartTlsErrorCodes, TraceErrorCodes, RevocationErrorCodes {}
}

export type ProbeErrorCode = keyof ProbeErrorCodes;
export type TlsHelloErrorCode = keyof TlsHelloErrorCodes;
export type StartTlsErrorCode = keyof StartTlsErrorCodes;
export type TraceErrorCode = keyof TraceErrorCodes;
export type RevocationErrorCode = keyof RevocationErrorCodes;
