/**
 * @module errors
 * The one shared leaf of certvigil: a base error class with a stable, machine-readable `code`.
 * Callers and tests branch on `code`, never on the message text. It imports nothing.
 *
 * Note the split the whole project keeps (after boulder's `DoCAA`): a *denial* is a returned result
 * with reasons, not an error; errors are reserved for "could not decide" (lookup failures, bad input).
 */

/** Every error certvigil throws on purpose carries one of these codes. */
export type ErrorCode =
  | 'DNS_TIMEOUT'
  | 'DNS_NETWORK'
  | 'DNS_MALFORMED_RESPONSE'
  | 'DNS_MISMATCHED_RESPONSE'
  | 'DNS_TRUNCATED'
  | 'DNS_NO_SERVERS'
  | 'DNS_BAD_NAME'
  // Zone files (src/caa/zonefile.ts, RFC 1035 §5.1 master file format): a line that cannot be parsed.
  | 'ZONE_MALFORMED'
  | 'CONFIG_INVALID'
  | 'USAGE'
  // Monitor watch list (src/monitor/watchlist.ts): an entry that can never match, with FILE:LINE.
  | 'WATCHLIST_INVALID'
  // External check (src/probe): the TCP connection, the TLS handshake or the whole check failed.
  | 'PROBE_CONNECT'
  | 'PROBE_TLS'
  | 'PROBE_TIMEOUT'
  // Raw TLS 1.2 hello reader (src/probe/tls-hello.ts): bad bytes, limits, and the connection's fate.
  | 'TLS_HELLO_MALFORMED'
  | 'TLS_HELLO_TIMEOUT'
  | 'TLS_HELLO_TOO_LARGE'
  | 'TLS_HELLO_CLOSED'
  | 'TLS_HELLO_ABORTED'
  | 'TLS_HELLO_NETWORK'
  | 'TLS_HELLO_BAD_NAME'
  // Certificate Transparency transport (src/ct/http.ts and the log clients).
  | 'CT_HTTP'
  | 'CT_TIMEOUT'
  | 'CT_NETWORK'
  | 'CT_TRUNCATED'
  | 'CT_BODY_TOO_LARGE'
  | 'CT_RATE_LIMITED'
  | 'CT_ABORTED'
  | 'CT_BAD_RESPONSE'
  | 'CT_INVALID_ARGUMENT'
  | 'CT_UNREACHABLE'
  // A log redirected outside its own origin (scheme, host, port), or too often.
  | 'CT_REDIRECT'
  | 'X509_MALFORMED'
  | 'X509_BAD_PEM'
  | 'X509_INTERNAL'
  // CT log lists (src/ct/loglist.ts).
  | 'LOGLIST_INVALID'
  | 'LOGLIST_SIGNATURE'
  // No log list at all: the location failed and there is neither a cached copy nor a snapshot.
  | 'LOGLIST_UNAVAILABLE'
  // Alert delivery (src/notify): the sink refused or failed, or did not answer in time.
  | 'NOTIFY_FAILED'
  | 'NOTIFY_TIMEOUT'
  // Monitor state (src/store): another process holds the run lock; the log position moved under a
  // commit; the schema cannot be brought up to date; a caller broke the contract; the database
  // cannot be opened or reached.
  | 'STORE_LOCKED'
  | 'STORE_CONFLICT'
  | 'STORE_MIGRATION'
  | 'STORE_INVALID_ARGUMENT'
  | 'STORE_UNAVAILABLE'
  // A read-only command found no state to read (nothing is created for it); a state directory or
  // file that others could tamper with (group/world-writable, foreign owner, a symlink).
  | 'STORE_NOT_FOUND'
  | 'STATE_UNSAFE'
  // CT wire formats and proofs (src/ct): the typed parse and verification errors of each module.
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_WRONG_ORIGIN'
  | 'CHECKPOINT_EXTENSION_LINES'
  | 'CHECKPOINT_NO_SIGNATURE'
  | 'CHECKPOINT_BAD_SIGNATURE'
  | 'ENTRY_MALFORMED_LEAF'
  | 'ENTRY_UNSUPPORTED_LEAF'
  | 'ENTRY_MALFORMED_EXTRA_DATA'
  | 'ENTRY_MALFORMED_EXTENSIONS'
  | 'MERKLE_BAD_SIZE'
  | 'MERKLE_BAD_HASH_LENGTH'
  | 'MERKLE_WRONG_PROOF_LENGTH'
  | 'MERKLE_ROOT_MISMATCH'
  | 'MERKLE_BAD_STATE'
  | 'MONITOR_INTERNAL'
  | 'SIG_MALFORMED'
  | 'SIG_BAD_KEY'
  | 'SIG_UNSUPPORTED_KEY'
  | 'SIG_UNSUPPORTED_ALGORITHM'
  | 'SIG_KEY_MISMATCH'
  | 'SIG_INVALID'
  | 'CT_RESPONSE_SHAPE'
  | 'CT_RESPONSE_BASE64'
  | 'CT_RESPONSE_HASH_LENGTH'
  | 'CT_RESPONSE_NUMBER'
  | 'CT_RESPONSE_SIGNATURE'
  | 'TILE_BAD_PATH'
  | 'TILE_BAD_RANGE'
  | 'TILE_MALFORMED'
  | 'TILE_WRONG_WIDTH'
  | 'TILE_LEAF_INDEX'
  | 'TLS_TRUNCATED'
  | 'TLS_TRAILING_DATA'
  | 'TLS_LENGTH_OUT_OF_RANGE'
  | 'TLS_INTEGER_TOO_LARGE'
  | 'TLS_BAD_VALUE'
  | 'CT_LOG_MISBEHAVIOUR'
  // STARTTLS negotiation (src/probe/starttls.ts): refused or malformed dialogue; no answer in time.
  | 'STARTTLS_FAILED'
  | 'STARTTLS_TIMEOUT'
  // TCP traceroute (src/probe/traceroute.ts): the tool failed, lacks CAP_NET_RAW, ran too long, was aborted.
  | 'TRACE_FAILED'
  | 'TRACE_PRIVILEGE'
  | 'TRACE_TIMEOUT'
  | 'TRACE_ABORTED'
  // IODEF documents (src/iodef/xml.ts, parse.ts): not well-formed, forbidden XML features (DTD, entities),
  // over the size/depth/element limits, or well-formed XML that is no IODEF document.
  | 'IODEF_MALFORMED'
  | 'IODEF_UNSAFE'
  | 'IODEF_TOO_LARGE'
  | 'IODEF_NOT_IODEF'
  // IODEF builder (src/iodef/document.ts): the PreventedIssuance cannot make a valid document.
  | 'IODEF_INVALID_REPORT'
  // iodef receiver (src/iodef/receiver/smtp.ts): a mail that cannot be parsed as MIME or is over the
  // MIME limits (header section, part count): a permanent refusal (SMTP 554), never "try later".
  | 'IODEF_BAD_MAIL'
  // iodef reporter (src/iodef/reporter/send.ts): a report could not be delivered (DeliveryError says
  // whether the failure is permanent or worth another attempt).
  | 'IODEF_DELIVERY_FAILED'
  // Revocation (src/probe/revocation): an OCSP response or CRL that is not what RFC 6960/5280 say;
  // its download failed, was too large, or ran out of time.
  | 'REVOCATION_MALFORMED'
  | 'REVOCATION_HTTP'
  | 'REVOCATION_TOO_LARGE'
  | 'REVOCATION_TIMEOUT';

/**
 * The brand every CertvigilError carries. `Symbol.for` (the global registry), not `Symbol()`: two
 * copies of this module — the CLI bundle's chunk and the library a caller imports, or two installed
 * versions of the package — must still recognise each other's errors, and `instanceof` cannot,
 * since each copy has its own class. Not exported: only the constructor below sets it, so an
 * object cannot pass by shape (a Node `ENOENT` has a string `code` and a `message` too).
 */
const BRAND = Symbol.for('certvigil.error');

export class CertvigilError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertvigilError';
    this.code = code;
    // Non-enumerable: the brand stays out of JSON, log lines and `toEqual` comparisons.
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * Whether `value` is an error certvigil raised on purpose, so that its `code` is an ErrorCode.
 * `instanceof` is the fast path; the brand covers another copy of this module (see BRAND). A
 * Node system error or any other object with a string `code` is NOT one: use `hasErrorCode`
 * where such errors are expected too.
 */
export function isCertvigilError(value: unknown): value is CertvigilError {
  if (value instanceof CertvigilError) return true;
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Whether `value` is an Error with a string `code`: a CertvigilError, or an error of the
 * environment — Node's system errors (`ENOENT`, `ECONNREFUSED`), a driver's (SQLite's `SQLITE_BUSY`,
 * PostgreSQL's SQLSTATE). The CLI shows these as one line and as "could not decide", not as a bug.
 * The code is then any string, not an ErrorCode: branch on codes only after `isCertvigilError`.
 */
export function hasErrorCode(value: unknown): value is Error & { code: string } {
  return value instanceof Error && typeof (value as { code?: unknown }).code === 'string';
}
