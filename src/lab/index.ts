/**
 * @module lab
 * The world of `certvigil lab`: everything the jabber.ru interception (2023) needs, on loopback and
 * with nothing but Node installed. The scenario that drives it lives in src/cli/lab/.
 */
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';

// CT log: the lab's CA (LabIssuer) and RFC 6962 + static-ct-api log (LabCtLog) with its HTTP
// server and log list; also the independent test log of test/fixtures/ct-log (TestCa, TestLog).
export { LabIssuer, ISSUER_FILES } from './ct-log/ca.js';
export type {
  IssueOptions,
  IssuedCertificate,
  KeyPair,
  KeyType,
  PendingPrecertificate,
} from './ct-log/ca.js';
export { LabCtLog } from './ct-log/log.js';
export type {
  AddedEntry,
  AddedPrecertificate,
  EntryBody,
  LabCtLogOptions,
  SignedTreeHead,
} from './ct-log/log.js';
export { LOG_FILES } from './ct-log/log-state.js';
export { startCtLogServer } from './ct-log/server.js';
export type { CtLogServer, CtLogServerOptions } from './ct-log/server.js';
export { Faults } from './ct-log/faults.js';
export type { Api, Endpoint, EndpointMatch, RequestRecord } from './ct-log/faults.js';
export { buildLogList, writeLogList } from './ct-log/loglist.js';
export type { LogListOptions, LogListSource } from './ct-log/loglist.js';
export { sctList } from './ct-log/wire.js';
export type { Sct } from './ct-log/wire.js';
