/**
 * @module probe/ct-presence-lookup
 * What every CT presence source shares: its options, the two hashes CT sources index a certificate
 * by, and `guarded`, the deadline every lookup runs under. A source that fails, times out or is
 * cancelled becomes an `error` result with a detail; it never throws to the caller, so one slow or
 * broken source (a log, crt.sh, the store) cannot sink the whole check.
 */
import { CertvigilError, errorMessage } from '../errors.js';
import type { CtHttpOptions } from '../ct/index.js';
import { sha256Hex } from '../hash.js';
import { summarizeCertificate } from '../x509/index.js';
import type { CtPresenceSource } from './types.js';

/** What every lookup needs: its deadline, the caller's cancellation, and HTTP client settings. */
export interface LookupOptions {
  /** Deadline for the whole lookup (all its requests), ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** CtHttpClient settings for the log APIs (defaults: 2 attempts, short backoff, `timeoutMs`). */
  http?: CtHttpOptions;
}

export interface CertificateHashes {
  /** Hex SHA-256 of the DER certificate. */
  certSha256: string;
  /** Hex SHA-256 of the TBSCertificate without CT poison and SCT-list extensions. */
  tbsSha256: string;
}

/** The two hashes CT sources index a certificate by (the store's definition of `tbsSha256`). */
export function certificateHashes(der: Uint8Array): CertificateHashes {
  return { certSha256: sha256Hex(der), tbsSha256: summarizeCertificate(der).tbsSha256 };
}

export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** A signal that fires on the caller's cancel or after `timeoutMs`, and whether it was the timeout. */
function deadline(timeoutMs: number, signal?: AbortSignal): { signal: AbortSignal; timedOut: () => boolean } {
  const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  return { signal: combined, timedOut: () => timeout.aborted && signal?.aborted !== true };
}

/**
 * Runs one lookup under its deadline; whatever it throws becomes an `error` source. A timeout is
 * reported as such (not as the "cancelled" the HTTP layer sees), and so is the caller's cancel.
 */
export async function guarded(
  kind: CtPresenceSource['kind'],
  where: string,
  opts: LookupOptions,
  run: (signal: AbortSignal) => Promise<CtPresenceSource>,
): Promise<CtPresenceSource> {
  const d = deadline(opts.timeoutMs, opts.signal);
  let timer: NodeJS.Timeout | undefined;
  // Code that ignores the signal (a store query) still cannot outlive the deadline.
  const expired = new Promise<never>((_, reject) => {
    // This rejection never becomes a result: the catch below reports the deadline (or the caller's
    // cancel) itself. It is still a typed error, with the text the catch would give, in case the
    // timer ever outruns the deadline signal.
    const fire = (): void =>
      reject(new CertvigilError('CT_TIMEOUT', `no answer within ${opts.timeoutMs} ms`));
    if (d.signal.aborted) fire();
    else d.signal.addEventListener('abort', fire, { once: true });
    timer = setTimeout(fire, Math.max(1, opts.timeoutMs) + 50);
  });
  expired.catch(() => undefined);
  try {
    return await Promise.race([run(d.signal), expired]);
  } catch (err) {
    if (d.timedOut())
      return { kind, where, status: 'error', detail: `no answer within ${opts.timeoutMs} ms` };
    if (opts.signal?.aborted === true) return { kind, where, status: 'error', detail: 'cancelled' };
    return { kind, where, status: 'error', detail: errorMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}
