/**
 * @module x509/errors
 * The one error the x509 walker throws. A CT monitor meets malformed certificates every day, so a
 * parse failure must be an ordinary, typed event the caller records before moving on (certspotter's
 * `NotifyMalformedEntry`), never a stray `RangeError` that would stop a log worker.
 *
 * `X509Error` is a `CertvigilError` (src/errors.ts) with one of the X509_* codes and the offset.
 */
import { CertvigilError } from '../errors.js';

interface X509ErrorCodes {
  /** The bytes are not a well-formed DER certificate / TBSCertificate (or part of one). */
  X509_MALFORMED: 'x509';
  /** A PEM block is unterminated or its body is not base64 (RFC 7468). */
  X509_BAD_PEM: 'x509';
  /**
   * A bug in the walker surfaced as a non-X509Error; wrapped (with `cause`) so that one bad entry
   * cannot stop the caller. Tests assert that it never occurs.
   */
  X509_INTERNAL: 'x509';
}

declare module '../errors.js' {
  interface ErrorCodes extends X509ErrorCodes {}
}

export type X509ErrorCode = keyof X509ErrorCodes;

export class X509Error extends CertvigilError {
  declare readonly code: X509ErrorCode;
  /** Byte offset (into the input given to the public function) where the problem was found, or -1. */
  readonly offset: number;

  constructor(code: X509ErrorCode, message: string, offset = -1, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'X509Error';
    this.offset = offset;
  }
}

/** Throws `X509_MALFORMED` with the what/where message every DER check uses. */
export function malformed(what: string, offset: number, problem: string): never {
  throw new X509Error('X509_MALFORMED', `${what}: ${problem} at offset ${offset}`, offset);
}

/**
 * Runs a public entry point and converts anything that is not an `X509Error` into `X509_INTERNAL`,
 * keeping the contract "only `X509Error` escapes" even if a walker bug slips through.
 */
export function guarded<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof X509Error) throw err;
    throw new X509Error('X509_INTERNAL', `${what}: internal error: ${String(err)}`, -1, { cause: err });
  }
}
