/**
 * @module iodef
 * CAA iodef (RFC 8659 §4.4), both ends: IODEF v2 documents (RFC 7970) built strictly and parsed
 * safely and leniently (v1, v2, RID envelopes), the CA-side reporter (durable outbox, dedup, rate
 * limits, anti-spam and SSRF rules, mail and RFC 6546 delivery) and the owner-side receiver.
 *
 * ```ts
 * import { reportDenial, drainOutbox, DEFAULT_REPORTER_POLICY } from 'certvigil/iodef';
 * const outcomes = await reportDenial(store, { result, requestedNames, validationMethod: 'dns-01',
 *   validationSucceeded: true, accountUri, ca: { name: 'Example CA', domain: 'ca.example' } },
 *   DEFAULT_REPORTER_POLICY);
 * await drainOutbox(store, { policy: DEFAULT_REPORTER_POLICY, from: 'caa-reports@ca.example', smtp });
 * ```
 */
export type * from './types.js';
export { buildIodefDocument, IODEF_NS, riskFrom, riskOf } from './document.js';
export { iodefFingerprint, IodefError, parseIodef } from './parse.js';
export type { ParsedIodef, ParseIodefOptions } from './parse.js';
export type { IodefErrorCode, IodefTransportErrorCode } from './errors.js';
export * from './reporter/index.js';
export * from './receiver/index.js';
export { checkTlsMaterial } from './receiver/http.js';
