/**
 * @module errors
 * The one shared leaf of certvigil: a base error class with a stable, machine-readable `code`.
 * Callers and tests branch on `code`, never on the message text. It imports nothing.
 *
 * Note the split the whole project keeps (after boulder's `DoCAA`): a *denial* is a returned result
 * with reasons, not an error; errors are reserved for "could not decide" (lookup failures, bad input).
 */

/**
 * The registry of error codes: one property per code, whose value names the module that owns it.
 * This file declares only the codes every layer shares; each module declares its own codes, once,
 * in its `errors.ts`, by augmenting this interface (TypeScript declaration merging):
 *
 * ```ts
 * declare module '../errors.js' {
 *   interface ErrorCodes {
 *     DNS_TIMEOUT: 'dns';
 *   }
 * }
 * ```
 *
 * A code is thus written in one place, next to the code that throws it, and `ErrorCode` still
 * names every code, so a `switch (err.code)` anywhere is checked. The owner value makes a second
 * declaration of the same code by another module a compile error ("subsequent property
 * declarations must have the same type"); `test/architecture.test.ts` checks that each module
 * declares its codes in its own `errors.ts` and that no code is declared twice.
 */
export interface ErrorCodes {
  /** The command line or a library call broke its contract (bad flag, bad argument). */
  USAGE: 'core';
  /** A configuration file or value is not valid (file:line in the message where there is one). */
  CONFIG_INVALID: 'core';
}

/** Every error certvigil throws on purpose carries one of these codes. */
export type ErrorCode = keyof ErrorCodes;

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

/**
 * The text of a caught value, for a message, a finding or a log line: `catch (e)` gives `unknown`,
 * and a throw may be any value (a string from a callback, a rejected non-Error). The caller still
 * sanitises it before it reaches a terminal when the text came from outside.
 */
export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
