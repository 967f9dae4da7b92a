/**
 * @module lab
 * The world of `certvigil lab`: everything the jabber.ru interception (2023) needs, on loopback and
 * with nothing but Node installed. The scenario that drives it lives in src/cli/lab/.
 */
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';
