/**
 * @module acme
 * ACME account discovery across client storage layouts.
 */
export { certManagerAccounts, defaultAcmeDirs, discoverAccounts, traefikAccounts } from './discover.js';
export { issuerForUrl } from './ca-map.js';
export type { AcmeAccount, AcmeClient } from './types.js';
