/**
 * @module cli/errors
 * The codes the CLI adds: a client of a certvigil server (`inventory push`, `check internal`) that
 * could not reach it or was refused. The commands that speak for other modules use those modules'
 * codes.
 */

interface CliErrorCodes {
  /** The certvigil server (`serve`) could not be reached: connection, TLS or timeout. */
  API_UNREACHABLE: 'cli';
  /** The certvigil server answered with an error status or an answer that is not what it documents. */
  API_REFUSED: 'cli';
}

declare module '../errors.js' {
  interface ErrorCodes extends CliErrorCodes {}
}

export type CliErrorCode = keyof CliErrorCodes;
