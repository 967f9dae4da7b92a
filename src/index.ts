/**
 * @module certvigil
 * Library API. CAs embedding the CAA engine need `evaluateCaa`/`evaluateCaaMany` and a resolver
 * that fits `CaaResolverPort` (the bundled `StubResolver` does). Subpath exports `certvigil/caa`
 * and `certvigil/dns` give the same pieces without the rest of the package.
 */
export * from './caa/index.js';
export * from './dns/index.js';
export * as ct from './ct/index.js';
export * as x509 from './x509/index.js';
export { CertvigilError, isCertvigilError } from './errors.js';
export type { ErrorCode } from './errors.js';
