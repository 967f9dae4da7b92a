/**
 * @module monitor/events
 * Every event the monitor raises, built here and nowhere else, each `satisfies MonitorEvent`, with
 * its outbox key (the deduplication rule) beside it. What goes into the outbox comes back out
 * through `eventOfAlert`, which checks the stored payload instead of casting it.
 */
import { createHash } from 'node:crypto';
import type { LogInfo, StoredHead } from '../ct/index.js';
import { leafHash } from '../ct/index.js';
import { CertvigilError } from '../errors.js';
import type { MonitorEvent, Reason, Severity } from '../notify/index.js';
import { sanitizeText } from '../sanitize.js';
import type { AlertInput, AlertKind, IssuanceInput } from '../store/index.js';

type EventOf<T extends MonitorEvent['type']> = Extract<MonitorEvent, { type: T }>;

/** An outbox entry whose payload is a monitor event (the store keeps it as JSON). */
export interface MonitorAlert extends AlertInput {
  kind: AlertKind;
  payload: MonitorEvent;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const day = (now: number): string => new Date(now).toISOString().slice(0, 10);

/**
 * An issuance the watch list matched and the inventory does not explain. Keyed on the TBS hash:
 * a precertificate and its final certificate, or one certificate in several logs, alert once.
 */
export function issuanceAlert(input: {
  issuance: IssuanceInput;
  severity: Severity;
  reasons: Reason[];
  watchItems: string[];
  logUrl: string;
  der?: Uint8Array;
  chain?: readonly Uint8Array[];
}): MonitorAlert {
  const i = input.issuance;
  const event = {
    type: 'issuance',
    severity: input.severity,
    watchItems: input.watchItems,
    known: false,
    reasons: input.reasons,
    issuance: {
      tbsSha256: i.tbsSha256,
      certSha256s: i.certSha256 ? [i.certSha256] : [],
      dnsNames: i.dnsNames,
      ipAddresses: i.ipAddresses,
      issuer: i.issuer,
      serial: i.serial,
      notBefore: i.notBefore,
      notAfter: i.notAfter,
      spkiSha256: i.spkiSha256,
      keyType: i.keyType,
      entries: [{ log: input.logUrl, index: i.index, type: i.type, timestamp: i.timestamp }],
      ...(input.der ? { certificateDerBase64: b64(input.der) } : {}),
      ...(input.chain && input.chain.length > 0 ? { chainDerBase64: input.chain.map(b64) } : {}),
    },
  } satisfies EventOf<'issuance'>;
  return { key: `issuance:${i.tbsSha256}`, kind: 'issuance', payload: event };
}

/**
 * An entry that could not be parsed (certspotter's NotifyMalformedEntry). It carries what hook
 * scripts get: LEAF_HASH, the raw entry (ENTRY_FILENAME) and PARSE_ERROR.
 */
export function malformedAlert(
  log: Pick<LogInfo, 'logId' | 'url'>,
  entry: { index: number; error: string; leafInput?: Uint8Array; extraData?: Uint8Array },
): MonitorAlert {
  const error = sanitizeText(entry.error, { maxLength: 1000 });
  const event = {
    type: 'malformed',
    severity: 'info',
    log: log.url,
    index: entry.index,
    error,
    parseError: error,
    ...(entry.leafInput ? { leafHash: b64(leafHash(entry.leafInput)) } : {}),
    ...(entry.leafInput
      ? { entry: { leafInput: b64(entry.leafInput), extraData: b64(entry.extraData ?? new Uint8Array()) } }
      : {}),
  } satisfies EventOf<'malformed'>;
  return { key: `malformed:${log.logId}:${entry.index}`, kind: 'malformed', payload: event };
}

/**
 * Cryptographic evidence against a log. The key is the evidence itself (log, kind and the signed
 * heads, plus what we computed): the same evidence seen again on a retry is the same alert, so a
 * log that keeps misbehaving the same way alerts once, and new evidence alerts again.
 */
export function misbehaviourAlert(
  log: Pick<LogInfo, 'logId' | 'url'>,
  what: 'fork' | 'root-mismatch' | 'bad-signature' | 'bad-proof',
  message: string,
  evidence: StoredHead[],
  computedRoot?: string,
): MonitorAlert {
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        what,
        evidence.map((h) => [h.treeSize, h.rootHash, h.timestamp]),
        computedRoot ?? null,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
  const event = {
    type: 'log-misbehaviour',
    severity: 'critical',
    log: log.url,
    message: sanitizeText(message, { maxLength: 1000 }),
    evidence,
  } satisfies EventOf<'log-misbehaviour'>;
  return { key: `misbehaviour:${log.logId}:${what}:${digest}`, kind: 'misbehaviour', payload: event };
}

/** A log that could not be read (network/HTTP): one alert per log and day, so a long outage does not flood. */
export function logUnreachableAlert(log: LogInfo, reason: string, now: number): MonitorAlert {
  const event = {
    type: 'log-health',
    severity: 'warning',
    log: log.url,
    message: sanitizeText(`cannot read ${log.description}: ${reason}`, { maxLength: 1000 }),
  } satisfies EventOf<'log-health'>;
  return { key: `health:${log.logId}:${day(now)}`, kind: 'health', payload: event };
}

/** A log whose newest head is older than its MMD allows (see `staleHeadMessage`): once per day. */
export function logStaleAlert(log: LogInfo, message: string, now: number): MonitorAlert {
  const event = {
    type: 'log-health',
    severity: 'warning',
    log: log.url,
    message: sanitizeText(message, { maxLength: 1000 }),
  } satisfies EventOf<'log-health'>;
  return { key: `health:${log.logId}:stale:${day(now)}`, kind: 'health', payload: event };
}

/** A configured inventory path that cannot be read: once per path and day. */
export function inventoryUnreadableAlert(path: string, reason: string, now: number): MonitorAlert {
  const shown = sanitizeText(path, { maxLength: 300 });
  const id = createHash('sha256').update(path).digest('hex').slice(0, 16);
  const event = {
    type: 'inventory-health',
    severity: 'warning',
    path: shown,
    message: `cannot read inventory path ${shown}: ${sanitizeText(reason, { maxLength: 300 })}; the inventory read before is kept until it can be read again`,
  } satisfies EventOf<'inventory-health'>;
  return { key: `health:inventory:${id}:${day(now)}`, kind: 'health', payload: event };
}

/**
 * The log list could not be refreshed for longer than its grace period: the monitor goes
 * on with the last good copy (or the shipped snapshot), but logs added since are not read and keys
 * may be out of date. Once per list and day.
 */
export function logListStaleAlert(
  list: { source: string; fetchedAt: string | null; lastError: string | null },
  now: number,
): MonitorAlert {
  const source = sanitizeText(list.source, { maxLength: 300 });
  const id = createHash('sha256').update(list.source).digest('hex').slice(0, 16);
  const since = list.fetchedAt ?? 'never (the shipped snapshot is in use)';
  const event = {
    type: 'log-health',
    severity: 'warning',
    log: source,
    message: sanitizeText(
      `the CT log list ${list.source} could not be refreshed (last good copy: ${since}): ${list.lastError ?? 'unknown error'}; the logs of the last good list are still read`,
      { maxLength: 1000 },
    ),
  } satisfies EventOf<'log-health'>;
  return { key: `health:loglist:${id}:${day(now)}`, kind: 'health', payload: event };
}

const EVENT_TYPES: ReadonlySet<string> = new Set<MonitorEvent['type']>([
  'issuance',
  'malformed',
  'log-misbehaviour',
  'log-health',
  'inventory-health',
  'test',
  'iodef-report',
  'heartbeat',
]);

/**
 * The event an outbox entry holds. The store gives back JSON it was given by `enqueueAlert`; an
 * entry that is not an event (a foreign writer, a damaged row) is an internal error, not a cast.
 */
export function eventOfAlert(alert: { key: string; payload: unknown }): MonitorEvent {
  const p = alert.payload;
  if (
    typeof p === 'object' &&
    p !== null &&
    typeof (p as { type?: unknown }).type === 'string' &&
    EVENT_TYPES.has((p as { type: string }).type) &&
    typeof (p as { severity?: unknown }).severity === 'string'
  ) {
    if ((p as { type: string }).type !== 'issuance') return p as MonitorEvent;
    const i = (p as { issuance?: unknown }).issuance;
    if (typeof i === 'object' && i !== null && Array.isArray((i as { dnsNames?: unknown }).dnsNames))
      return p as MonitorEvent;
  }
  throw new CertvigilError(
    'MONITOR_INTERNAL',
    `outbox entry ${sanitizeText(alert.key, { maxLength: 200 })} does not hold a monitor event`,
  );
}
