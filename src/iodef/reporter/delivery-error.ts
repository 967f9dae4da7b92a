/**
 * @module iodef/reporter/delivery-error
 * The one failure type of the delivery path (RFC 8659 §4.4 reports): the transports say whether a
 * refusal is permanent (give the report up now) or transient (retry later, policy.ts
 * `nextAttemptAt`), and deliver.ts acts on that flag alone.
 */
import { CertvigilError } from '../../errors.js';

/** A delivery failure; `permanent` ones are given up at once. */
export class DeliveryError extends CertvigilError {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super('IODEF_DELIVERY_FAILED', message);
    this.name = 'DeliveryError';
  }
}
