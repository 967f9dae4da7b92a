/**
 * @module notify/webhook
 * POSTs the event's JSON form (`eventJson`) to a URL. Any 2xx is delivery; anything else — 3xx
 * included, redirects are not followed — and any network error or timeout rejects, and the outbox
 * retries. The request carries an `Idempotency-Key` (the event id, equal on every retry) so a
 * receiver can drop a duplicate when an earlier attempt arrived but its answer was lost.
 *
 * Webhook URLs often hold their secret in the path or query (Slack, Teams, many chat bridges), so
 * errors name only the URL's origin: error messages end up in logs.
 */
import { packageVersion } from '../package-files.js';
import { NotifyError } from './errors.js';
import { eventId, eventJson, oneLine, safeStringify } from './format.js';
import type { MonitorEvent, Notifier, NotifyConfig } from './types.js';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** How much of an error response body is kept for the error message. */
const SNIPPET_BYTES = 512;

export type WebhookConfig = NonNullable<NotifyConfig['webhook']>;

export function createWebhookNotifier(config: WebhookConfig): Notifier {
  const url = new URL(config.url);
  const where = url.origin;
  const timeoutMs = config.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  return {
    name: 'webhook',
    async send(event: MonitorEvent): Promise<void> {
      const body = safeStringify(eventJson(event));
      // undici is loaded on the first webhook, not with the notifier: every command that reads the
      // monitor's configuration builds the notifiers (`check endpoint --database` among them).
      const { request } = await import('undici');
      // One deadline for the whole exchange, connect to last body byte; undici's own header/body
      // timeouts only bound the gaps between bytes.
      const signal = AbortSignal.timeout(timeoutMs);
      let status: number;
      let snippet = '';
      try {
        const response = await request(url, {
          method: 'POST',
          headers: {
            'user-agent': `certvigil/${packageVersion()}`,
            // Lower-cased, so that a configured "Content-Type" cannot ride along beside ours.
            ...Object.fromEntries(Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
            'content-type': 'application/json; charset=utf-8',
            'idempotency-key': eventId(event),
          },
          body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          // Alerts are rare: no keep-alive pool to hold sockets (and the process) open in between.
          reset: true,
        });
        status = response.statusCode;
        snippet = await readSnippet(response.body);
      } catch (cause) {
        if (signal.aborted || isUndiciTimeout(cause)) {
          throw new NotifyError('NOTIFY_TIMEOUT', 'webhook', `${where}: no answer within ${timeoutMs} ms`, {
            cause,
          });
        }
        throw new NotifyError('NOTIFY_FAILED', 'webhook', `${where}: ${(cause as Error).message}`, { cause });
      }
      if (status < 200 || status > 299) {
        throw new NotifyError(
          'NOTIFY_FAILED',
          'webhook',
          `${where} answered HTTP ${status}${snippet ? `: ${snippet}` : ''}`,
          { status, output: snippet },
        );
      }
    },
  };
}

/** Reads the body to the end (so the request completes), keeping only its start. */
async function readSnippet(body: AsyncIterable<Uint8Array>): Promise<string> {
  const kept: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < SNIPPET_BYTES) {
      kept.push(Buffer.from(chunk));
      size += chunk.length;
    }
  }
  return truncateChars(oneLine(Buffer.concat(kept).subarray(0, SNIPPET_BYTES).toString('utf8')).trim(), 200);
}

function truncateChars(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function isUndiciTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}
