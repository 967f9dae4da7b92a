/**
 * @module notify/errors
 * The one error every sink rejects with: `NOTIFY_TIMEOUT` when the sink did not answer in time,
 * `NOTIFY_FAILED` for everything else (refused, unreachable, non-2xx, hook exit status). Both mean
 * "not delivered, try again later": the outbox retries, so no sink retries on its own.
 */
import { CertvigilError } from '../errors.js';

interface NotifyErrorCodes {
  /** The sink refused or failed (unreachable, non-2xx, SMTP error, hook exit status). */
  NOTIFY_FAILED: 'notify';
  /** The sink did not answer in time. */
  NOTIFY_TIMEOUT: 'notify';
}

declare module '../errors.js' {
  interface ErrorCodes extends NotifyErrorCodes {}
}

/** The codes a sink rejects with. */
export type NotifyErrorCode = keyof NotifyErrorCodes;

export interface NotifyErrorDetails {
  /** HTTP status (webhook) or SMTP reply code (email), when the peer answered. */
  status?: number;
  /** Hook exit code, or the signal that ended it. */
  exitCode?: number | null;
  signal?: string | null;
  /** The end of the hook's stderr or the start of the webhook's response body, for the log. */
  output?: string;
  cause?: unknown;
}

export class NotifyError extends CertvigilError {
  /** The notifier that failed: "email", "webhook", "exec", "stdout". */
  readonly sink: string;
  readonly status: number | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly output: string | undefined;

  constructor(code: NotifyErrorCode, sink: string, message: string, details: NotifyErrorDetails = {}) {
    super(code, `${sink}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'NotifyError';
    this.sink = sink;
    this.status = details.status;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.output = details.output;
  }
}
