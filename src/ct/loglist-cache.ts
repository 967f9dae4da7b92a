/**
 * @module ct/loglist-cache
 * A log list downloaded once and reused by short-lived processes (`check endpoint`, run every few
 * minutes per endpoint): fetching Google's list and its signature each time costs two requests per
 * check and turns every network hiccup at 3 a.m. into an UNKNOWN.
 *
 * A thin use of `ct/loglist-source` (the one implementation: cache files, signature checks on
 * every read, the shipped snapshot), with a day-long refresh period by default. When the refresh
 * fails, the last good copy (or the snapshot) serves and the caller is told (`cache: 'stale'`).
 */
import { hasErrorCode, isCertvigilError } from '../errors.js';
import { createLogListSource } from './loglist-source.js';
import type { LogListState } from './loglist-source.js';
import type { LoadLogListOptions } from './loglist.js';
import type { CtHttpClient } from './http.js';
import type { LogInfo } from './types.js';

export interface LogListCacheOptions {
  cacheDir: string;
  /** Use the cached list without asking the network while it is younger than this (default 24 h). */
  maxAgeSeconds?: number;
  verify?: LoadLogListOptions['verify'];
  http?: CtHttpClient;
  /** The shipped snapshot (default the package's `data/`); false: none. */
  snapshotDir?: string | false;
  now?: () => number;
}

export interface CachedLogList {
  logs: LogInfo[];
  source: string;
  /**
   * fresh: the cache was young enough; downloaded: just fetched; stale: the refresh failed and a
   * cached copy or the shipped snapshot serves; not-cached: a file, read as it is.
   */
  cache: 'fresh' | 'downloaded' | 'stale' | 'not-cached';
  fetchedAt: string | null;
  /** Why a stale copy was used. */
  refreshError: string | null;
  state: LogListState;
}

const DAY_MS = 86_400_000;

/** The list at `source` (file or URL), through a `LogListSource` with a day-long period. */
export async function loadLogListCached(
  source: string,
  options: LogListCacheOptions,
): Promise<CachedLogList> {
  const isFile = !/^https?:\/\//i.test(source);
  const lists = createLogListSource({
    location: source,
    cacheDir: options.cacheDir,
    maxAgeMs: (options.maxAgeSeconds ?? 86_400) * 1000,
    graceMs: 7 * DAY_MS,
    // A file is read as it is: nothing of it is written to the cache.
    readOnly: isFile,
    states: 'all',
    ...(options.verify !== undefined ? { verify: options.verify } : {}),
    ...(options.http !== undefined ? { http: options.http } : {}),
    ...(options.snapshotDir !== undefined ? { snapshotDir: options.snapshotDir } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  let state: LogListState;
  try {
    state = await lists.current();
  } catch (err) {
    // Nothing at all: the location's own error (a missing file, a 503) says more than "unavailable".
    if (isCertvigilError(err) && err.code === 'LOGLIST_UNAVAILABLE' && hasErrorCode(err.cause))
      throw err.cause;
    throw err;
  }
  const cache =
    state.lastError !== null
      ? 'stale'
      : state.origin === 'file'
        ? 'not-cached'
        : state.origin === 'network'
          ? 'downloaded'
          : 'fresh';
  return {
    logs: state.logs,
    source: state.source,
    cache,
    fetchedAt: state.fetchedAt,
    refreshError: state.lastError,
    state,
  };
}
