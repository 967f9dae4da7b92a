/**
 * @module caa/errors
 * The codes the CAA engine adds to the DNS client's: a zone file (RFC 1035 §5.1 master file format)
 * given as the source of records instead of a resolver, with a line that cannot be parsed. A CAA
 * *denial* is never an error: `decideCaa` returns it with its reasons.
 */

interface CaaErrorCodes {
  /** A zone file line that cannot be parsed (`ZoneParseError` carries the line number). */
  ZONE_MALFORMED: 'caa';
}

declare module '../errors.js' {
  interface ErrorCodes extends CaaErrorCodes {}
}

/** The codes the CAA engine throws (besides the DNS client's, which it passes on). */
export type CaaErrorCode = keyof CaaErrorCodes;
