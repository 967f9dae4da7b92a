/**
 * @module lab
 * The world of `certvigil lab`: everything the jabber.ru interception (2023) needs, on loopback and
 * with nothing but Node installed. The scenario that drives it lives in src/cli/lab/.
 */
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';

// CA and ACME client state
export { LabAcmeCa } from './ca/ca.js';
export type { LabAcmeCaOptions } from './ca/ca.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_VALIDATION_TIMEOUT_MS,
  Http01Validator,
  isLoopback,
  startHttp01Responder,
} from './ca/http01.js';
export type { Http01Responder, Http01ValidatorOptions } from './ca/http01.js';
export { jwkThumbprint, keyAuthorization } from './ca/account.js';
export { writeCertbotState } from './ca/certbot-state.js';
export type { CertbotCertificate, CertbotState, CertbotStateOptions } from './ca/certbot-state.js';
export type {
  CertificateEngine,
  Challenge,
  ChallengeMethod,
  ChallengeSolver,
  ChallengeValidator,
  CtLogPort,
  EngineCertificate,
  EngineIssueOptions,
  LabAccount,
  LabCertificate,
  LabPortRecord,
  LabPortResponse,
  LabResolverPort,
  LoggedEntry,
  OrderAudit,
  OrderRequest,
  OrderResult,
  ValidationOutcome,
} from './ca/types.js';

// DNS responder: the victim's zone, served authoritatively over UDP and TCP (src/lab/dns/)
export { LabZone } from './dns/zone.js';
export type { LabZoneOptions, ZoneAnswer } from './dns/zone.js';
export type { LabCaa, LabRdata, LabRrType, LabSoa, StoredRdata, ZoneRr } from './dns/records.js';
export { startDnsResponder } from './dns/responder.js';
export type { DnsQueryLog, DnsResponder, DnsResponderOptions } from './dns/responder.js';

// services, interceptor, namespaces
export { startVictimServices, SERVICE_NAMES } from './services/victim.js';
export type { ServiceName, ServicePorts, VictimServices, VictimServicesOptions } from './services/victim.js';
export { startFront } from './services/front.js';
export type { Front, FrontOptions, InterceptOptions } from './services/front.js';
export type { ServiceLimits } from './services/bounds.js';
export { ATTACKER_TLS, VICTIM_TLS } from './services/tls-profiles.js';
export type { ServiceCertificate, TlsProfile } from './services/tls-profiles.js';
export { createTopology } from './netns.js';
export type { HopAddresses, Topology } from './netns.js';
export { namespacesSupported } from './netns-support.js';
export type { ExecResult, NamespaceSupport } from './netns-support.js';
export { startNamespaceTlsListeners } from './netns-tls.js';
export type { NamespaceTlsListeners, NamespaceTlsOptions } from './netns-tls.js';

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
export type { RateLimitOptions } from './ct-log/rate-limit.js';
export { Faults } from './ct-log/faults.js';
export type { Api, Endpoint, EndpointMatch, RequestRecord } from './ct-log/faults.js';
export { buildLogList, writeLogList } from './ct-log/loglist.js';
export type { LogListOptions, LogListSource } from './ct-log/loglist.js';
export { sctList } from './ct-log/wire.js';
export type { Sct } from './ct-log/wire.js';
