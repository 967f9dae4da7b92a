/**
 * @module cli/commands/check-loglist
 * The CT log list for the external check, within the check's time budget and never a reason for
 * UNKNOWN. A monitoring host is usually firewalled: the plugin must not spend NRPE's 10 s waiting
 * for gstatic.com on every run. So:
 * - a cached copy younger than a day serves without asking the network (`ct/loglist-cache.ts`);
 * - otherwise one download is tried, cut at `budgetMs`; when it fails, the cached copy or the
 *   signed snapshot shipped in `data/` serves, and an INFO line says which and how old it is;
 * - after a failed download the network is left alone for `retryAfterFailureMs` (a marker file
 *   in the cache directory), so a firewalled host pays for one failed attempt an hour, not one per
 *   check;
 * - with no list at all (a custom URL that never loaded), the CT findings degrade, nothing else.
 */
import { errorMessage } from '../../errors.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CtHttpClient, createLogListSource, loadLogList, loadLogListCached } from '../../ct/index.js';
import type { LogInfo, LogListState } from '../../ct/index.js';
import { sanitizeText } from '../../sanitize.js';
import { ensureStateDir, readStateFile, writeStateFile } from '../../state-files.js';

const DAY_MS = 86_400_000;
export const DEFAULT_RETRY_AFTER_FAILURE_MS = 3_600_000;

export interface CheckLogListOptions {
  /** File path or URL (`--log-list`). */
  source: string;
  /** Where the downloaded copy and the failure marker are kept ($XDG_CACHE_HOME/certvigil). */
  cacheDir: string;
  /** Longest a download may take before a cached copy or the snapshot serves instead. */
  budgetMs: number;
  retryAfterFailureMs?: number;
  /** The shipped snapshot directory (default the package's `data/`); false: none. */
  snapshotDir?: string | false;
  /**
   * The monitor's state directory (`--state-dir`): its cached copy of the default lists (Google's
   * and Apple's, refreshed hourly by the monitor) serves while younger than a day, with no download.
   */
  monitorStateDir?: string;
  /** True when `source` is the default (no `--log-list`): only then is the monitor's copy the same list. */
  sourceIsDefault?: boolean;
  now?: () => number;
}

export interface CheckLogList {
  /** Null: no list could be had at all; the CT checks that need one are skipped (WARNING). */
  logs: LogInfo[] | null;
  /** INFO (or, without any list, WARNING) text for the long output; null when the list is current. */
  note: string | null;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);
const day = (iso: string): string => iso.slice(0, 10);

function ageDays(iso: string | null, now: number): string {
  if (!iso) return 'age unknown';
  const days = Math.floor((now - Date.parse(iso)) / DAY_MS);
  return Number.isFinite(days) ? `${days} day${days === 1 ? '' : 's'} old` : 'age unknown';
}

/** The INFO line for a list that is not a fresh download (pure). */
export function describeFallback(state: LogListState, reason: string, now: number): string {
  if (state.origin === 'snapshot') {
    const stamp = state.parts.map((p) => p.listTimestamp).find((t): t is string => t !== null) ?? null;
    return `log list: the snapshot shipped with certvigil serves (list of ${stamp ? day(stamp) : '?'}, ${ageDays(stamp, now)}): ${reason}`;
  }
  const at = state.fetchedAt;
  return `log list: a cached copy serves (fetched ${at ? day(at) : '?'}, ${ageDays(at, now)}): ${reason}`;
}

interface FailureMarker {
  source: string;
  failedAt: number;
  error: string;
}

function markerPath(cacheDir: string, source: string): string {
  const key = createHash('sha256').update(source).digest('hex').slice(0, 32);
  return join(cacheDir, `loglist-failed-${key}.json`);
}

async function readMarker(path: string, source: string): Promise<FailureMarker | null> {
  try {
    const text = await readStateFile(path);
    if (text === null) return null;
    const m = JSON.parse(text) as Partial<FailureMarker>;
    if (m.source !== source || typeof m.failedAt !== 'number' || typeof m.error !== 'string') return null;
    return { source, failedAt: m.failedAt, error: sanitizeText(m.error, { maxLength: 300 }) };
  } catch {
    // A marker that cannot be read only costs one more download attempt.
    return null;
  }
}

async function writeMarker(cacheDir: string, path: string, marker: FailureMarker): Promise<void> {
  try {
    await ensureStateDir(cacheDir);
    await writeStateFile(path, `${JSON.stringify(marker)}\n`);
  } catch {
    // Without a marker the next run tries again: slower, not wrong.
  }
}

/** Cache or snapshot only: no network, nothing written. */
async function offlineState(o: CheckLogListOptions): Promise<LogListState | null> {
  try {
    return await createLogListSource({
      location: o.source,
      cacheDir: o.cacheDir,
      readOnly: true,
      states: 'all',
      maxAgeMs: DAY_MS,
      ...(o.snapshotDir !== undefined ? { snapshotDir: o.snapshotDir } : {}),
    }).current();
  } catch {
    return null;
  }
}

/** The monitor's cached default lists, if it has a copy younger than a day (read-only, no network). */
async function monitorCopy(stateDir: string, now: number): Promise<LogListState | null> {
  try {
    const state = await createLogListSource({
      cacheDir: stateDir,
      readOnly: true,
      snapshotDir: false,
      // Retired and rejected logs too, as the check's own list: an SCT made before its log was
      // retired still counts (CT policy).
      states: 'all',
    }).current();
    const at = state.fetchedAt ? Date.parse(state.fetchedAt) : NaN;
    return state.origin === 'cache' && now - at < DAY_MS && now >= at ? state : null;
  } catch {
    // Unreadable (another user's 0700 directory) or unsafe: the check's own cache serves instead.
    return null;
  }
}

export async function loadCheckLogList(o: CheckLogListOptions): Promise<CheckLogList> {
  const now = o.now ?? Date.now;
  if (o.monitorStateDir !== undefined && o.sourceIsDefault) {
    const shared = await monitorCopy(o.monitorStateDir, now());
    if (shared) return { logs: shared.logs, note: null };
  }
  if (!isUrl(o.source)) {
    // A file is the operator's own copy: read as it is (no cache directory touched: the plugin may
    // run as a user whose $HOME it cannot write), errors are theirs to see.
    const list = await loadLogList(o.source, { verify: false });
    return { logs: list.logs, note: null };
  }
  const marker = markerPath(o.cacheDir, o.source);
  const failed = await readMarker(marker, o.source);
  const retryMs = o.retryAfterFailureMs ?? DEFAULT_RETRY_AFTER_FAILURE_MS;
  if (failed && now() >= failed.failedAt && now() - failed.failedAt < retryMs) {
    const state = await offlineState(o);
    const when = new Date(failed.failedAt).toISOString();
    const reason = `the download failed at ${when} (${failed.error}); not retried before ${new Date(failed.failedAt + retryMs).toISOString()}`;
    if (state) return { logs: state.logs, note: describeFallback(state, reason, now()) };
    return { logs: null, note: `no log list: ${reason}; no cached copy, no shipped snapshot` };
  }

  const controller = new AbortController();
  const http = new CtHttpClient({ timeoutMs: o.budgetMs, maxAttempts: 1, signal: controller.signal });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, o.budgetMs);
  });
  let error: string | null = null;
  let state: LogListState | null = null;
  try {
    const loaded = await Promise.race([
      loadLogListCached(o.source, {
        cacheDir: o.cacheDir,
        http,
        ...(o.snapshotDir !== undefined ? { snapshotDir: o.snapshotDir } : {}),
      }),
      timedOut,
    ]);
    if (loaded === 'timeout') error = `no answer within ${o.budgetMs} ms`;
    else {
      state = loaded.state;
      if (loaded.cache === 'stale') error = loaded.refreshError ?? 'refresh failed';
    }
  } catch (err) {
    error = sanitizeText(errorMessage(err), { maxLength: 300 });
  } finally {
    clearTimeout(timer);
    await http.close().catch(() => undefined);
  }
  if (error === null && state) return { logs: state.logs, note: null };
  await writeMarker(o.cacheDir, marker, { source: o.source, failedAt: now(), error: error ?? 'unknown' });
  state ??= await offlineState(o);
  const reason = `the download failed (${error ?? 'unknown'})`;
  if (state) return { logs: state.logs, note: describeFallback(state, reason, now()) };
  return { logs: null, note: `no log list: ${reason}; no cached copy, no shipped snapshot` };
}
