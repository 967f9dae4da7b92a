/**
 * @module iodef/receiver
 * The domain owner's side of CAA iodef (RFC 8659 §4.4): HTTPS (RFC 6546) and SMTP intakes and
 * mailbox readers, all through one intake (`acceptReport`) that parses leniently, stores each
 * report once and alerts once.
 */
export { acceptReport, formatReportLine, oneLine, reportEvent } from './intake.js';
export type {
  AlertFunction,
  IncomingReport,
  IntakeOptions,
  IntakeResult,
  ReportAlert,
  ReportAlerter,
  ReportChannel,
} from './intake.js';
export { ACCEPTED_CONTENT_TYPES, startHttpReceiver } from './http.js';
export type {
  HttpReceiver,
  HttpReceiverEvent,
  HttpReceiverLimits,
  HttpReceiverOptions,
  HttpReceiverTls,
} from './http.js';
export { acceptMail, iodefDocuments, readMaildir, readMbox, startSmtpReceiver } from './smtp.js';
export type {
  ExtractedDocument,
  MailboxOptions,
  MailboxResult,
  MailOutcome,
  SmtpReceiver,
  SmtpReceiverOptions,
} from './smtp.js';
export { TokenBucketLimiter } from './rate-limit.js';
export type { RateDecision, RateLimitOptions } from './rate-limit.js';
