/**
 * @module ct
 * The shared shape of the `ct` errors that carry nothing but a code of their own union and a
 * message (checkpoint, tile, signature, Merkle): each is one line, `class XError extends
 * CtError<XErrorCode> {}`, so the constructor and `name` are written once.
 */
import { CertvigilError } from '../errors.js';
import type { ErrorCode } from '../errors.js';

/** A `CertvigilError` whose `code` is narrowed to its module's union `C`; `name` is the subclass's. */
export abstract class CtError<C extends ErrorCode> extends CertvigilError {
  declare readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    // The concrete class's name, so `String(err)` and logs read `CheckpointError: …`.
    this.name = new.target.name;
  }
}
