/**
 * @module lab/errors
 * Every error code of the `lab` module (the world of `certvigil lab`: DNS responder, CT log, CA,
 * TLS services, the interceptor's proxy, network namespaces), declared once here and added to the
 * registry in src/errors.ts.
 */
import { CertvigilError } from '../errors.js';

interface LabErrorCodes {
  /** A component of the lab world could not start (a port in use, a namespace not created). */
  LAB_START_FAILED: 'lab';
  /** The lab CA refused an order (CAA, validation): the refusal carries the reason. */
  LAB_ISSUANCE_REFUSED: 'lab';
  /** A lab component was asked for something outside its world (an unknown name, a bad record). */
  LAB_INVALID_REQUEST: 'lab';
}

declare module '../errors.js' {
  interface ErrorCodes extends LabErrorCodes {}
}

/** The codes the lab throws. */
export type LabErrorCode = keyof LabErrorCodes;

/** A fault of the lab world itself (not a finding of a detector). */
export class LabError extends CertvigilError {
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'LabError';
  }
}
