/**
 * @module lab
 * The world of `certvigil lab`: everything the jabber.ru interception (2023) needs, on loopback and
 * with nothing but Node installed. The scenario that drives it lives in src/cli/lab/.
 */
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';

// services, interceptor, namespaces
export { startVictimServices, SERVICE_NAMES } from './services/victim.js';
export type { ServiceName, ServicePorts, VictimServices, VictimServicesOptions } from './services/victim.js';
export { startFront } from './services/front.js';
export type { Front, FrontOptions, InterceptOptions } from './services/front.js';
export type { ServiceLimits } from './services/bounds.js';
export { ATTACKER_TLS, VICTIM_TLS } from './services/tls-profiles.js';
export type { LabCertificate, TlsProfile } from './services/tls-profiles.js';
export { createTopology } from './netns.js';
export type { HopAddresses, Topology } from './netns.js';
export { namespacesSupported } from './netns-support.js';
export type { ExecResult, NamespaceSupport } from './netns-support.js';
export { startNamespaceTlsListeners } from './netns-tls.js';
export type { NamespaceTlsListeners, NamespaceTlsOptions } from './netns-tls.js';
