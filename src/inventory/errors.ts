/**
 * @module inventory/errors
 * The codes of the inventory scan, declared once here and added to the registry in src/errors.ts,
 * and `InventoryFault`, the error tied to one path. The scan never stops on one: it records the
 * fault in `InventoryScan.errors` (code, path, message) and carries on, so one unreadable file
 * cannot hide the certificates of the others.
 */
import { CertvigilError } from '../errors.js';

/** Stable codes for `InventoryScan.errors`. */
interface InventoryErrorCodes {
  /** A path given to the scan does not exist or cannot be read: the scan says nothing about it. */
  INVENTORY_PATH_UNREADABLE: 'inventory';
  /** The path could not be listed, opened or read (permissions, I/O error, vanished). */
  INVENTORY_UNREADABLE: 'inventory';
  /** A file was larger than the scan's size limit and was skipped unread. */
  INVENTORY_TOO_LARGE: 'inventory';
  /** A certificate file (or a block in it) is not valid PEM / DER X.509. */
  INVENTORY_BAD_CERTIFICATE: 'inventory';
  /** A file that an ACME client layout says holds a certificate holds none. */
  INVENTORY_NO_CERTIFICATE: 'inventory';
  /** A client's configuration or store file (renewal conf, acme.json, …) could not be parsed. */
  INVENTORY_BAD_CONFIG: 'inventory';
  /** A directory was not descended into: depth or entry-count limit reached. */
  INVENTORY_LIMIT: 'inventory';
}

declare module '../errors.js' {
  interface ErrorCodes extends InventoryErrorCodes {}
}

export type InventoryErrorCode = keyof InventoryErrorCodes;

/** A failure tied to one path; the scan turns it into an `errors` entry and carries on. */
export class InventoryFault extends CertvigilError {
  declare readonly code: InventoryErrorCode;

  constructor(code: InventoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'InventoryFault';
  }
}
