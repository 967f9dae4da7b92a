/**
 * @module ct/loglist-cache
 * A log list downloaded once and reused: a monitoring plugin runs every few minutes for every
 * endpoint, and fetching Google's list (and its signature) each time costs two requests per check
 * and turns every network hiccup at 3 a.m. into an UNKNOWN. The list is stored as read after its
 * signature was checked; a fresh copy is used as is, an expired one is refreshed, and when the
 * refresh fails a stale copy still serves for a bounded time (the caller is told).
 *
 * Files (one pair per source URL, named by its SHA-256): `loglist-<hash>.json` (the list bytes)
 * and `loglist-<hash>.meta.json` (`{source, fetchedAt, signatureVerified}`), each written to a
 * temporary file and renamed, so a crash never leaves a half-written list behind. The cache
 * directory follows the state-file rules (`state-files`: 0700, ours, no symlinks followed): a
 * list planted there would decide which logs and keys are trusted.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { checkStateDir, ensureStateDir, readStateFile, writeStateFile } from '../state-files.js';
import { loadLogList, parseLogList } from './loglist.js';
import type { LoadedLogList, LoadLogListOptions } from './loglist.js';

export interface LogListCacheOptions extends LoadLogListOptions {
  cacheDir: string;
  /** Use the cached list without asking the network while it is younger than this (default 24 h). */
  maxAgeSeconds?: number;
  /** When a refresh fails, a cached list up to this old is still used (default 7 days). */
  staleForSeconds?: number;
  now?: () => number;
}

export interface CachedLogList extends LoadedLogList {
  /** fresh: the cache was young enough; downloaded: just fetched; stale: the refresh failed. */
  cache: 'fresh' | 'downloaded' | 'stale' | 'not-cached';
  fetchedAt: string | null;
  /** Why a stale copy was used. */
  refreshError: string | null;
}

interface Meta {
  source: string;
  fetchedAt: string;
  signatureVerified: boolean;
}

const DAY = 86_400;

async function readCache(
  dataFile: string,
  metaFile: string,
  source: string,
): Promise<{ list: LoadedLogList; meta: Meta } | null> {
  // A directory others can write is refused (the error propagates), not silently ignored.
  if (!(await checkStateDir(dirOf(dataFile)))) return null;
  try {
    const metaText = await readStateFile(metaFile);
    const dataText = await readStateFile(dataFile);
    if (metaText === null || dataText === null) return null;
    const meta = JSON.parse(metaText) as Partial<Meta>;
    if (
      meta.source !== source ||
      typeof meta.fetchedAt !== 'string' ||
      Number.isNaN(Date.parse(meta.fetchedAt))
    )
      return null;
    const bytes = new TextEncoder().encode(dataText);
    const list = {
      ...parseLogList(bytes),
      source,
      signatureVerified: meta.signatureVerified === true,
      bytes,
    };
    return { list, meta: { source, fetchedAt: meta.fetchedAt, signatureVerified: list.signatureVerified } };
  } catch {
    // Missing, unreadable or corrupt: as if there were no cache.
    return null;
  }
}

function dirOf(file: string): string {
  return join(file, '..');
}

/** `loadLogList` with a cache for https sources; files are read directly, as before. */
export async function loadLogListCached(
  source: string,
  options: LogListCacheOptions,
): Promise<CachedLogList> {
  if (!/^https?:\/\//i.test(source)) {
    const list = await loadLogList(source, options);
    return { ...list, cache: 'not-cached', fetchedAt: null, refreshError: null };
  }
  const now = options.now ?? Date.now;
  const key = createHash('sha256').update(source).digest('hex').slice(0, 32);
  const dataFile = join(options.cacheDir, `loglist-${key}.json`);
  const metaFile = join(options.cacheDir, `loglist-${key}.meta.json`);
  const cached = await readCache(dataFile, metaFile, source);
  const age = cached ? (now() - Date.parse(cached.meta.fetchedAt)) / 1000 : Infinity;
  if (cached && age >= 0 && age < (options.maxAgeSeconds ?? DAY))
    return { ...cached.list, cache: 'fresh', fetchedAt: cached.meta.fetchedAt, refreshError: null };
  try {
    const list = await loadLogList(source, options);
    const fetchedAt = new Date(now()).toISOString();
    try {
      await ensureStateDir(options.cacheDir);
      await writeStateFile(dataFile, list.bytes);
      const meta: Meta = { source, fetchedAt, signatureVerified: list.signatureVerified };
      await writeStateFile(metaFile, `${JSON.stringify(meta)}\n`);
    } catch {
      // An unwritable cache directory costs a download next time, nothing else.
    }
    return { ...list, cache: 'downloaded', fetchedAt, refreshError: null };
  } catch (err) {
    if (cached && age < (options.staleForSeconds ?? 7 * DAY))
      return {
        ...cached.list,
        cache: 'stale',
        fetchedAt: cached.meta.fetchedAt,
        refreshError: err instanceof Error ? err.message : String(err),
      };
    throw err;
  }
}
