/**
 * @module iodef/errors
 * Every error code of the `iodef` module, declared once here and added to the registry in
 * src/errors.ts: the document codec (xml.ts, parse.ts, document.ts) and the two ends of the
 * reporting path (reporter, receiver).
 */

/** IODEF documents (RFC 7970): parsing untrusted XML and building our own. */
interface IodefDocumentErrorCodes {
  /** Not well-formed XML (XML 1.0 §2.1). */
  IODEF_MALFORMED: 'iodef';
  /** Forbidden XML features: a DTD, entity declarations or references beyond the predefined five. */
  IODEF_UNSAFE: 'iodef';
  /** Over the size, depth or element-count limits. */
  IODEF_TOO_LARGE: 'iodef';
  /** Well-formed XML that is no IODEF document (root, namespace, required classes). */
  IODEF_NOT_IODEF: 'iodef';
  /** A PreventedIssuance that cannot make a valid document (document.ts). */
  IODEF_INVALID_REPORT: 'iodef';
}

/** The two ends of CAA iodef reporting (RFC 8659 §4.4). */
interface IodefTransportErrorCodes {
  /**
   * receiver/smtp.ts: a mail that cannot be parsed as MIME or is over the MIME limits (header
   * section, part count): a permanent refusal (SMTP 554), never "try later".
   */
  IODEF_BAD_MAIL: 'iodef';
  /**
   * reporter: a report could not be delivered (`DeliveryError` says whether the failure is
   * permanent or worth another attempt).
   */
  IODEF_DELIVERY_FAILED: 'iodef';
}

declare module '../errors.js' {
  interface ErrorCodes extends IodefDocumentErrorCodes, IodefTransportErrorCodes {}
}

/** The codes the document codec throws (`IodefError`). */
export type IodefErrorCode = keyof IodefDocumentErrorCodes;
/** The codes of the reporter and the receiver. */
export type IodefTransportErrorCode = keyof IodefTransportErrorCodes;
