/**
 * @module probe/tls-hello/hello-error
 * The one error type of the raw TLS hello (`TlsHelloError`, codes TLS_HELLO_* declared in probe/errors.ts): every failure of
 * building the ClientHello, parsing the server flight or reading it off a socket is one of these,
 * never a stray RangeError, so callers (the SCT probe, the TLS policy probe) can tell a malformed
 * server from a timeout or a closed connection by `code`.
 *
 * Why its own file: the builder, the parsers and the socket loop all throw it; declared beside any
 * one of them, the others would import that file back through `tls-hello.ts` (an import cycle).
 */
import { CertvigilError } from '../../errors.js';
import type { TlsHelloErrorCode } from '../errors.js';
import type { ServerHelloFacts } from './facts.js';

export type { TlsHelloErrorCode } from '../errors.js';

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
