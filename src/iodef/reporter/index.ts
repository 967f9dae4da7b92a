/**
 * @module iodef/reporter
 * The CA side of CAA iodef (RFC 8659 §4.4): decide (policy.ts), enqueue durably (enqueue.ts),
 * deliver with retries (send.ts). See each module for the rationale.
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
export {
  DeliveryError,
  drainOutbox,
  reportMessageId,
  reportText,
  ridReportMessage,
  vetHost,
} from './send.js';
export type { DeliveryOutcome, DeliveryStatus, DrainOptions, DrainResult, HostResolver } from './send.js';
export { embeddedIpv4, isLoopbackAddress, nonPublicAddressKind } from './address.js';
