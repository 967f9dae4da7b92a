/**
 * @module iodef/reporter
 * The CA side of CAA iodef (RFC 8659 §4.4): decide (policy.ts), enqueue durably (enqueue.ts),
 * compose the mail and the RID message (compose.ts), deliver with retries (deliver.ts) over SMTP
 * (transport-mail.ts) or RFC 6546 HTTPS (transport-https.ts, SSRF guard in ssrf.ts). See each
 * module for the rationale.
 */
export { iodefTargets, parseIodefValue } from './targets.js';
export type { IodefTarget, TargetProblem } from './targets.js';
export {
  DEFAULT_REPORTER_POLICY,
  decideReports,
  nextAttemptAt,
  optedOut,
  registeredDomainOf,
  reporterPolicy,
} from './policy.js';
export type {
  PlannedReport,
  ReportContext,
  ReportDecisions,
  ReporterPolicy,
  SkipReason,
  SkippedTarget,
} from './policy.js';
export { dedupKey, reportDenial } from './enqueue.js';
export type { DenialInput, ReportOutcome, TargetOutcome } from './enqueue.js';
export { DeliveryError } from './delivery-error.js';
export { drainOutbox } from './deliver.js';
export type { DeliveryOutcome, DeliveryStatus, DrainOptions, DrainResult } from './deliver.js';
export { reportMessageId, reportText, ridReportMessage } from './compose.js';
export { vetHost } from './ssrf.js';
export type { HostResolver } from './ssrf.js';
export { embeddedIpv4, isLoopbackAddress, nonPublicAddressKind } from './address.js';
