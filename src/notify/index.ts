/**
 * @module notify
 * Delivery of decided events: build the configured sinks once (`createNotifiers`), then hand each
 * event to all of them (`deliverAll`). Sinks are independent: one that fails or hangs up to its
 * timeout does not stop or delay the verdict of the others, and each result says which sink failed
 * and why, so the outbox can retry just that one.
 *
 * @example
 * const notifiers = createNotifiers(config.alerts);
 * const results = await deliverAll(notifiers, event);
 * for (const r of results) if (!r.ok) outbox.retryLater(r.name, event, r.error.code);
 */
import { statSync } from 'node:fs';
import { CertvigilError, errorMessage } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { createEmailNotifier } from './email.js';
import { NotifyError } from './errors.js';
import { createExecNotifier } from './exec.js';
import { createStdoutNotifier } from './stdout.js';
import type { MonitorEvent, Notifier, NotifyConfig } from './types.js';
import { createWebhookNotifier } from './webhook.js';

export type { IssuanceEventData, MonitorEvent, Notifier, NotifyConfig, Reason, Severity } from './types.js';
export { NotifyError } from './errors.js';
export type { NotifyErrorCode, NotifyErrorDetails } from './errors.js';
export { advice, eventId, eventJson, formatText, pemFromDerBase64, summaryLine } from './format.js';
export type { EventJson } from './format.js';
export { heartbeatDue, heartbeatEvent } from './heartbeat.js';
export type { HeartbeatEvent, HeartbeatFacts } from './heartbeat.js';
export { formatTerminal } from './terminal.js';
export { createStdoutNotifier } from './stdout.js';
export type { StdoutNotifierOptions } from './stdout.js';
export { createEmailNotifier } from './email.js';
export type { EmailConfig, EmailNotifierOptions } from './email.js';
export { createWebhookNotifier, DEFAULT_WEBHOOK_TIMEOUT_MS } from './webhook.js';
export type { WebhookConfig } from './webhook.js';
export {
  createExecNotifier,
  DEFAULT_HOOK_TIMEOUT_MS,
  hookEnvironment,
  hookFiles,
  listHookDirectory,
} from './exec.js';
export type { ExecConfig, ExecNotifierOptions, HookFile } from './exec.js';

/** One sink's outcome for one event. */
export type DeliveryResult =
  | { name: string; ok: true; durationMs: number }
  | { name: string; ok: false; durationMs: number; error: CertvigilError };

/**
 * The sinks `config` asks for, in a fixed order: stdout, email, webhook, exec. Throws
 * `CONFIG_INVALID` for settings no sink could work with (the config file schema checks types; this
 * checks meaning). An empty config gives no notifiers.
 */
export function createNotifiers(config: NotifyConfig): Notifier[] {
  const notifiers: Notifier[] = [];
  if (config.stdout === true) notifiers.push(createStdoutNotifier());
  if (config.email !== undefined) {
    const { smtp, to } = config.email;
    if (to.length === 0) invalid('email.to lists no recipient');
    if (smtp.host === '') invalid('email.smtp.host is empty');
    if (!Number.isInteger(smtp.port) || smtp.port < 1 || smtp.port > 65535) {
      invalid(`email.smtp.port ${smtp.port} is not a TCP port`);
    }
    notifiers.push(createEmailNotifier(config.email));
  }
  if (config.webhook !== undefined) {
    let url: URL;
    try {
      url = new URL(config.webhook.url);
    } catch {
      invalid('webhook.url is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      invalid(`webhook.url must be http(s), not ${url.protocol}`);
    }
    checkTimeout('webhook.timeoutMs', config.webhook.timeoutMs);
    notifiers.push(createWebhookNotifier(config.webhook));
  }
  if (config.exec !== undefined) {
    const { command, directory } = config.exec;
    if (command === undefined && directory === undefined) invalid('exec needs a command or a directory');
    if (command !== undefined && command.trim() === '') invalid('exec.command is empty');
    if (directory !== undefined) checkHookDirectory(directory);
    checkTimeout('exec.timeoutMs', config.exec.timeoutMs);
    notifiers.push(createExecNotifier(config.exec));
  }
  return notifiers;
}

/** A configured hooks.d must be a directory now: a typo would otherwise silently run no hook. */
function checkHookDirectory(directory: string): void {
  let st;
  try {
    st = statSync(directory);
  } catch (err) {
    invalid(
      `exec.directory ${sanitizeText(directory, { maxLength: 200 })}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  if (!st.isDirectory())
    invalid(`exec.directory ${sanitizeText(directory, { maxLength: 200 })} is not a directory`);
}

function invalid(message: string): never {
  throw new CertvigilError('CONFIG_INVALID', `alerts: ${message}`);
}

/** Node's timers hold at most 2^31 − 1 ms; a larger timeout fires at once (TimeoutOverflowWarning). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function checkTimeout(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0 && value <= MAX_TIMEOUT_MS))
    invalid(`${name} must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
}

/**
 * Sends `event` through every notifier at once and waits for all of them. Never rejects: a sink
 * that throws (even synchronously, even a non-Error) gives an `ok: false` result whose error is a
 * `CertvigilError` (`NOTIFY_FAILED` unless the sink said otherwise). Results are in `notifiers` order.
 */
export async function deliverAll(
  notifiers: readonly Notifier[],
  event: MonitorEvent,
): Promise<DeliveryResult[]> {
  return Promise.all(
    notifiers.map(async (notifier): Promise<DeliveryResult> => {
      const start = performance.now();
      try {
        await notifier.send(event);
        return { name: notifier.name, ok: true, durationMs: performance.now() - start };
      } catch (err) {
        return {
          name: notifier.name,
          ok: false,
          durationMs: performance.now() - start,
          error: asCertvigilError(notifier.name, err),
        };
      }
    }),
  );
}

function asCertvigilError(sink: string, err: unknown): CertvigilError {
  if (err instanceof CertvigilError) return err;
  const message = errorMessage(err);
  return new NotifyError('NOTIFY_FAILED', sink, message, { cause: err });
}
