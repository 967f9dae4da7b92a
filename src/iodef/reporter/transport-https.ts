/**
 * @module iodef/reporter/transport-https
 * The https: channel of CAA iodef (RFC 8659 §4.4): RFC 6546 §3, an HTTP POST over TLS carrying a
 * RID message (compose.ts), `Content-Type: application/rid+xml`.
 *
 * Any 2xx counts as delivered (a RID server answers a Report with a success status, with or
 * without a RID reply body); 3xx is not followed (a redirect would be a second, unchecked
 * destination) and counts as a permanent failure; 408, 429 and 5xx are retried; other 4xx are
 * permanent. The incident id also goes in `Iodef-Incident-Id` and `Idempotency-Key` headers, so a
 * resend is recognisable without parsing the body.
 *
 * The connection goes to the address ssrf.ts checked, through an undici `Agent` whose
 * `connect.lookup` returns only that address — TLS SNI and `Host` stay the URL's host. The response
 * body is read up to `maxResponseBytes`; the whole exchange is bounded by `httpTimeoutMs`. undici
 * is loaded on the first POST: `iodef` commands that never POST do not pay for it.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Dispatcher } from 'undici';
import type { IodefOutboxRecord } from '../../store/index.js';
import { ridReportMessage } from './compose.js';
import { DeliveryError } from './delivery-error.js';
import type { ReporterPolicy } from './policy.js';
import { vetHost } from './ssrf.js';
import type { HostResolver } from './ssrf.js';

export interface HttpsOptions {
  /** Extra trust anchors (PEM) for the endpoints' TLS certificates; default: Node's roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Default: `dns.lookup(host, { all: true })`. */
  resolve?: HostResolver;
  userAgent?: string;
}

/** POSTs one report to its https: recipient; resolves when delivered, else a `DeliveryError`. */
export async function postReport(
  report: IodefOutboxRecord,
  policy: ReporterPolicy,
  https: HttpsOptions | undefined,
  outer: AbortSignal | undefined,
): Promise<void> {
  const url = new URL(report.recipient);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw new DeliveryError(`refused: ${url.protocol} is not allowed`, true);
  const vetted = await vetHost(url.hostname, policy, https?.resolve);
  const pinnedLookup = (
    _hostname: string,
    opts: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    if (opts.all === true) callback(null, [vetted]);
    else callback(null, vetted.address, vetted.family);
  };
  const timeout = AbortSignal.timeout(policy.httpTimeoutMs);
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  const { Agent, request } = await import('undici');
  const agent = new Agent({
    connect: { ca: https?.ca, lookup: pinnedLookup, timeout: policy.httpTimeoutMs },
    headersTimeout: policy.httpTimeoutMs,
    bodyTimeout: policy.httpTimeoutMs,
  });
  try {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'POST',
        dispatcher: agent,
        maxRedirections: 0,
        signal,
        headers: {
          'content-type': 'application/rid+xml; charset=utf-8',
          'user-agent': https?.userAgent ?? 'certvigil-iodef-reporter',
          'iodef-incident-id': report.incidentId,
          'idempotency-key': `"${report.incidentId}"`,
        },
        body: ridReportMessage(report),
      });
    } catch (cause) {
      throw new DeliveryError(`POST ${url.href}: ${(cause as Error).message}`, false);
    }
    let read = 0;
    try {
      for await (const chunk of res.body) {
        read += (chunk as Buffer).length;
        if (read > policy.maxResponseBytes) break;
      }
    } catch {
      // The status is what counts; a broken or oversized body changes nothing.
    } finally {
      res.body.destroy();
    }
    const s = res.statusCode;
    if (s >= 200 && s < 300) return;
    if (s >= 300 && s < 400) throw new DeliveryError(`POST ${url.href}: ${s} redirect not followed`, true);
    throw new DeliveryError(`POST ${url.href}: HTTP ${s}`, !(s === 408 || s === 429 || s >= 500));
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
