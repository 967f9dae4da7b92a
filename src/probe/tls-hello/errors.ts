/**
 * @module probe/tls-hello/errors
 * The one error type of the raw TLS hello (`TlsHelloError`, codes TLS_HELLO_*): every failure of
 * building the ClientHello, parsing the server flight or reading it off a socket is one of these,
 * never a stray RangeError, so callers (the SCT probe, the TLS policy probe) can tell a malformed
 * server from a timeout or a closed connection by `code`.
 *
 * Why its own file: the builder, the parsers and the socket loop all throw it; declared beside any
 * one of them, the others would import that file back through `tls-hello.ts` (an import cycle).
 */
import { CertvigilError } from '../../errors.js';
import type { ServerHelloFacts } from './facts.js';

export type TlsHelloErrorCode =
  /** The bytes are not a TLS server flight (or break its grammar). */
  | 'TLS_HELLO_MALFORMED'
  /** The flight did not complete within `timeoutMs`. */
  | 'TLS_HELLO_TIMEOUT'
  /** More than `maxBytes` arrived without completing the flight. */
  | 'TLS_HELLO_TOO_LARGE'
  /** The peer closed the connection before the flight was complete (no alert). */
  | 'TLS_HELLO_CLOSED'
  /** The caller's AbortSignal fired. */
  | 'TLS_HELLO_ABORTED'
  /** The socket reported an error (ECONNRESET, ...). */
  | 'TLS_HELLO_NETWORK'
  /** The server name cannot be sent as an RFC 6066 §3 HostName. */
  | 'TLS_HELLO_BAD_NAME';

export class TlsHelloError extends CertvigilError {
  declare readonly code: TlsHelloErrorCode;
  /** What had been parsed when the error happened (for CLOSED / TIMEOUT / TOO_LARGE), if anything. */
  readonly partial: ServerHelloFacts | undefined;

  constructor(
    code: TlsHelloErrorCode,
    message: string,
    options?: { cause?: unknown; partial?: ServerHelloFacts },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TlsHelloError';
    this.partial = options?.partial;
  }
}
