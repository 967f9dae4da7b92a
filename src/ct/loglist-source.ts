/**
 * @module ct/loglist-source
 * The log list as a cached, signed input for a long-running monitor: fetched at most
 * every `maxAgeMs`, its signature checked, the last good copy kept on disk; when a refresh fails
 * the last good copy goes on serving (and the failure is reported, `stale` once it has lasted
 * `graceMs`); with no copy yet, the signed snapshot shipped in `data/` serves, so a first start
 * without network works. Only when nothing at all is available does `current()` throw.
 *
 * Location: a file, an https URL (or loopback http), or, by default, the union of Google's
 * all-logs list (signed: its `.sig` with Google's key) and Apple's list (NOT signed: Apple
 * publishes no signature, so that half is trusted on its TLS connection to valid.apple.com, plus
 * the schema and the log ID = SHA-256(key) check every list gets). The union keeps the logs that
 * are usable, qualified or readonly in either list, each log ID once (Google's entry first). A
 * refresh of the default succeeds only when both lists do; otherwise both stay as they were (one
 * consistent pair on disk, one `fetchedAt`).
 *
 * Cache file (one per location, named by its SHA-256): `loglist-cache-<hash>.json`, holding every
 * part's bytes and signature, so a cached copy is verified again when read (a bit flip on disk or a
 * planted copy is refused, not trusted). Written through `state-files` (0700 directory, 0600 file,
 * temporary file + rename: a crash leaves the old copy or the new one).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertvigilError, errorMessage, isCertvigilError } from '../errors.js';
import { dataPath } from '../package-files.js';
import { sanitizeText } from '../sanitize.js';
import { checkStateDir, ensureStateDir, readStateFile, writeStateFile } from '../state-files.js';
import { CtHttpClient } from './http.js';
import {
  checkLogListLocation,
  defaultVerify,
  GOOGLE_ALL_LOGS_LIST_URL,
  loadLogList,
  parseLogList,
  verifyLogListSignature,
} from './loglist.js';
import type { LoadedLogList, LoadLogListOptions } from './loglist.js';
import type { LogInfo, LogState } from './types.js';

/** Apple's list (https://valid.apple.com/ct/log_list/schema_versions/log_list_schema_v5.json shape). */
export const APPLE_LOG_LIST_URL = 'https://valid.apple.com/ct/log_list/current_log_list.json';
/** The parts of the default location: Google's (Chrome's) list and Apple's, in order of preference. */
export const DEFAULT_LOG_LIST_PARTS: readonly string[] = [GOOGLE_ALL_LOGS_LIST_URL, APPLE_LOG_LIST_URL];
/** What the default location keeps: logs that take or still serve certificates. */
export const DEFAULT_LOG_STATES: readonly LogState[] = ['usable', 'qualified', 'readonly'];
export const DEFAULT_MAX_AGE_MS = 3_600_000;
export const DEFAULT_GRACE_MS = 24 * 3_600_000;
/** The `data/` folder shipped with the package (from src/ct, dist/ct or the bundled CLI alike). */
export const SHIPPED_SNAPSHOT_DIR = `${dataPath()}${sep}`;

/** Snapshot files in `data/` per part URL; `sig` means "verify it like the network copy". */
const SNAPSHOT_FILES: Readonly<Record<string, { json: string; sig?: string }>> = {
  [GOOGLE_ALL_LOGS_LIST_URL]: { json: 'loglist-google-v3.json', sig: 'loglist-google-v3.sig' },
  [APPLE_LOG_LIST_URL]: { json: 'loglist-apple.json' },
};

export type LogListOrigin = 'network' | 'file' | 'cache' | 'snapshot';

/** One list of the location (the default location has two). */
export interface LogListPart {
  source: string;
  version: string | null;
  /** `log_list_timestamp` inside the list (Apple's has none). */
  listTimestamp: string | null;
  signatureVerified: boolean;
  logCount: number;
}

export interface LogListState {
  /** The logs in effect (for the default location: usable/qualified/readonly, deduplicated by ID). */
  logs: LogInfo[];
  /** The location: a file, a URL, or the parts of the default joined with " + ". */
  source: string;
  /** When the copy in use was fetched or read (ISO 8601); null for the shipped snapshot. */
  fetchedAt: string | null;
  origin: LogListOrigin;
  /** Refreshing has been failing for `graceMs` or longer: a health alert is due. */
  stale: boolean;
  /** Why the last refresh failed (sanitised, one line); null after a success. */
  lastError: string | null;
  /** Since when refreshing fails (ISO 8601); null when the last refresh succeeded. */
  failingSince: string | null;
  /** Why the last good copy could not be written to the cache (it still serves); else null. */
  cacheError: string | null;
  parts: LogListPart[];
  /** Per-log oddities that did not stop the list loading (sanitised). */
  warnings: string[];
}

export interface LogListSourceOptions {
  /** File path, https URL (loopback http allowed), or undefined for Google's + Apple's lists. */
  location?: string;
  /** Where the last good copy is kept (0700; e.g. the monitor's state directory). */
  cacheDir: string;
  /** Ask the network at most this often (default 1 h). A file is re-read whenever it changes. */
  maxAgeMs?: number;
  /** How long refreshing may fail before `stale` is set (default 24 h). */
  graceMs?: number;
  /** The shipped snapshot (default the package's `data/`); false: none. */
  snapshotDir?: string | false;
  /** Signature check for a single location (default: Google's key for gstatic URLs, else none). */
  verify?: LoadLogListOptions['verify'];
  /** States kept (default: usable/qualified/readonly for the default location, all otherwise). */
  states?: readonly LogState[] | 'all';
  /** Client for the downloads; by default one per refresh (2 attempts, proxies from the environment). */
  http?: CtHttpClient;
  /** Never use the network or write anything: cache, snapshot or the file only (`loglist show`). */
  readOnly?: boolean;
  now?: () => number;
}

export interface LogListSource {
  /** The location as given (or the default's parts joined with " + "). */
  readonly source: string;
  /**
   * The list in effect, refreshing first when `maxAgeMs` has passed since the last attempt (or the
   * file changed). Never throws once any list (network, file, cache, snapshot) was available; with
   * none at all, throws `LOGLIST_UNAVAILABLE` (its message says why the location failed). The
   * first call also throws `STATE_UNSAFE` when `cacheDir` exists but others can write it (a copy
   * there could choose the logs and keys trusted): a configuration error, like the store's.
   */
  current(): Promise<LogListState>;
  /**
   * Refreshes now if due (`force`: regardless of age) and returns the state; a failure is reported
   * in `lastError`, not thrown (same exception as `current()` when nothing at all is available).
   */
  refresh(force?: boolean): Promise<LogListState>;
}

// ---- Pure parts ---------------------------------------------------------------------------------

/**
 * The union of several lists' logs, in order of preference: a log ID already taken is skipped
 * (Google's and Apple's entries for one log differ in details such as the operator's name), and
 * only logs in one of `states` are kept, if given.
 */
export function mergeLogs(lists: readonly (readonly LogInfo[])[], states?: readonly LogState[]): LogInfo[] {
  const wanted = states === undefined ? undefined : new Set<LogState>(states);
  const seen = new Set<string>();
  const out: LogInfo[] = [];
  for (const logs of lists)
    for (const log of logs) {
      if (wanted !== undefined && !wanted.has(log.state)) continue;
      if (seen.has(log.logId)) continue;
      seen.add(log.logId);
      out.push(log);
    }
  return out;
}

/** Whether a failure that began at `failingSince` has lasted `graceMs` by `now`. */
export function isStale(failingSince: number | null, now: number, graceMs: number): boolean {
  return failingSince !== null && now - failingSince >= graceMs;
}

function oneLine(err: unknown): string {
  const text = errorMessage(err);
  return sanitizeText(text.replace(/\s+/g, ' ').trim(), { maxLength: 500 });
}

function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

function filePath(location: string): string {
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}

// ---- Cache file ---------------------------------------------------------------------------------

const CACHE_FORMAT = 'certvigil-loglist-cache/1';

interface CachedPart {
  source: string;
  list: string; // base64 of the exact bytes
  signature: string | null;
}
interface CacheFile {
  format: string;
  location: string;
  fetchedAt: string;
  parts: CachedPart[];
}

interface Loaded {
  parts: LoadedLogList[];
  fetchedAt: string | null;
  origin: LogListOrigin;
}

// ---- The source ---------------------------------------------------------------------------------

/**
 * A log list that refreshes itself (see the module comment).
 *
 * @example
 * const lists = createLogListSource({ cacheDir: stateDir });
 * const { logs, stale, lastError } = await lists.current();
 */
export function createLogListSource(options: LogListSourceOptions): LogListSource {
  const location = options.location;
  if (location !== undefined) checkLogListLocation(location);
  const partSources = location === undefined ? [...DEFAULT_LOG_LIST_PARTS] : [location];
  const sourceName = partSources.join(' + ');
  const states: readonly LogState[] | undefined =
    options.states === 'all'
      ? undefined
      : (options.states ?? (location === undefined ? DEFAULT_LOG_STATES : undefined));
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const snapshotDir = options.snapshotDir === undefined ? SHIPPED_SNAPSHOT_DIR : options.snapshotDir;
  const isFile = location !== undefined && !isUrl(location);
  // A relative file path names the same list from any working directory: key the cache by its
  // absolute form (and check that form again when reading, below).
  const cacheKey = isFile ? resolve(filePath(sourceName)) : sourceName;
  const cacheFile = join(
    options.cacheDir,
    `loglist-cache-${createHash('sha256').update(cacheKey).digest('hex').slice(0, 32)}.json`,
  );
  const verifyFor = (source: string): LoadLogListOptions['verify'] =>
    location !== undefined && options.verify !== undefined ? options.verify : defaultVerify(source);

  let good: Loaded | null = null;
  let lastAttemptAt: number | null = null;
  let lastError: string | null = null;
  let lastCause: unknown = undefined;
  let failingSince: number | null = null;
  let cacheError: string | null = null;
  let fileStamp: string | null = null;
  let cacheTried = false;
  let inflight: Promise<void> | null = null;

  const stateOf = (loaded: Loaded): LogListState => {
    const warnings = loaded.parts.flatMap((p) => p.warnings.map((w) => sanitizeText(w, { maxLength: 300 })));
    return {
      logs: mergeLogs(
        loaded.parts.map((p) => p.logs),
        states,
      ),
      source: sourceName,
      fetchedAt: loaded.fetchedAt,
      origin: loaded.origin,
      stale: isStale(failingSince, now(), graceMs),
      lastError,
      failingSince: failingSince === null ? null : new Date(failingSince).toISOString(),
      cacheError,
      parts: loaded.parts.map((p) => ({
        source: p.source,
        version: p.version ?? null,
        listTimestamp: p.timestamp ?? null,
        signatureVerified: p.signatureVerified,
        logCount: p.logs.length,
      })),
      warnings,
    };
  };

  /** A part as stored (cache or snapshot): parsed, and its signature checked again when signed. */
  const revive = (source: string, bytes: Uint8Array, signature: Uint8Array | null): LoadedLogList => {
    const verify = verifyFor(source);
    if (verify !== false && verify !== undefined) {
      if (signature === null || !verifyLogListSignature(bytes, signature, verify.publicKeyPem))
        throw new CertvigilError(
          'LOGLIST_SIGNATURE',
          `stored copy of ${source} does not match its signature`,
        );
    }
    return {
      ...parseLogList(bytes),
      source,
      signatureVerified: verify !== false && verify !== undefined,
      bytes,
      ...(signature !== null ? { signature } : {}),
    };
  };

  const readCache = async (): Promise<Loaded | null> => {
    // A directory others can write is refused loudly (state-files), not silently used.
    if (!(await checkStateDir(options.cacheDir))) return null;
    const text = await readStateFile(cacheFile);
    if (text === null) return null;
    try {
      const file = JSON.parse(text) as Partial<CacheFile>;
      if (
        file.format !== CACHE_FORMAT ||
        file.location !== cacheKey ||
        typeof file.fetchedAt !== 'string' ||
        Number.isNaN(Date.parse(file.fetchedAt)) ||
        !Array.isArray(file.parts) ||
        file.parts.length !== partSources.length
      )
        return null;
      const parts = file.parts.map((p, i) => {
        const source = partSources[i] as string;
        // A file's own name may be relative; `location` (its absolute form) was checked above.
        if (!isFile && p.source !== source) throw new Error('parts differ');
        return revive(
          source,
          Buffer.from(p.list, 'base64'),
          p.signature === null ? null : Buffer.from(p.signature, 'base64'),
        );
      });
      return { parts, fetchedAt: file.fetchedAt, origin: 'cache' };
    } catch {
      // Corrupt, from another version, or failing its signature: as if there were none.
      return null;
    }
  };

  const readSnapshot = async (): Promise<Loaded | null> => {
    if (snapshotDir === false) return null;
    const files = partSources.map((s) => SNAPSHOT_FILES[s]);
    if (files.some((f) => f === undefined)) return null;
    try {
      const parts = await Promise.all(
        partSources.map(async (source, i) => {
          const f = files[i] as { json: string; sig?: string };
          const bytes = await readFile(join(snapshotDir, f.json));
          const sig = f.sig !== undefined ? await readFile(join(snapshotDir, f.sig)) : null;
          return revive(source, bytes, sig);
        }),
      );
      return { parts, fetchedAt: null, origin: 'snapshot' };
    } catch (err) {
      lastError ??= `shipped snapshot unusable: ${oneLine(err)}`;
      return null;
    }
  };

  const writeCache = async (loaded: Loaded): Promise<void> => {
    const file: CacheFile = {
      format: CACHE_FORMAT,
      location: cacheKey,
      fetchedAt: loaded.fetchedAt ?? new Date(now()).toISOString(),
      parts: loaded.parts.map((p) => ({
        source: p.source,
        list: Buffer.from(p.bytes).toString('base64'),
        signature: p.signature ? Buffer.from(p.signature).toString('base64') : null,
      })),
    };
    try {
      await ensureStateDir(options.cacheDir);
      await writeStateFile(cacheFile, `${JSON.stringify(file)}\n`);
      cacheError = null;
    } catch (err) {
      // The list is good and serves from memory; the next start costs a download, nothing else.
      cacheError = oneLine(err);
    }
  };

  const stampOf = async (): Promise<string | null> => {
    try {
      const st = await stat(filePath(location as string));
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return null;
    }
  };

  /** Fetch (or read the file), verify, keep. Never throws: failures land in lastError. */
  const attempt = async (): Promise<void> => {
    const at = now();
    lastAttemptAt = at;
    const stamp = isFile ? await stampOf() : null;
    const http =
      options.http ??
      (isFile ? undefined : new CtHttpClient({ maxConcurrency: 2, maxAttempts: 2, backoffBaseMs: 500 }));
    try {
      const parts: LoadedLogList[] = [];
      // In order: a failing Google list should not cost Apple's download as well.
      for (const source of partSources) {
        const verify = verifyFor(source);
        parts.push(await loadLogList(source, { ...(http ? { http } : {}), verify: verify ?? false }));
      }
      good = { parts, fetchedAt: new Date(at).toISOString(), origin: isFile ? 'file' : 'network' };
      fileStamp = stamp;
      lastError = null;
      failingSince = null;
      if (!options.readOnly) await writeCache(good);
    } catch (err) {
      lastError = oneLine(err);
      lastCause = err;
      if (failingSince === null) {
        // The failure began no later than when the last good copy fell due (a process that
        // starts against an old cache has been "failing" since then, not since it started).
        const due = !isFile && good?.fetchedAt != null ? Date.parse(good.fetchedAt) + maxAgeMs : at;
        failingSince = Math.min(at, due);
      }
      if (isFile) fileStamp = stamp;
    } finally {
      if (options.http === undefined && http !== undefined) await http.close();
    }
  };

  const due = async (): Promise<boolean> => {
    if (isFile) return good === null || good.origin !== 'file' || (await stampOf()) !== fileStamp;
    const last = lastAttemptAt ?? (good?.fetchedAt != null ? Date.parse(good.fetchedAt) : null);
    if (last === null) return true;
    const age = now() - last;
    return age < 0 || age >= maxAgeMs;
  };

  const ensureBase = async (): Promise<void> => {
    if (good !== null || cacheTried) return;
    // An unsafe cache directory (others can write it, not ours) throws STATE_UNSAFE: a copy there
    // would decide which logs and keys are trusted, so it is a configuration error, not a miss.
    good = await readCache();
    cacheTried = true;
  };

  const run = async (force: boolean): Promise<LogListState> => {
    if (inflight === null) {
      inflight = (async () => {
        await ensureBase();
        if (options.readOnly) {
          if (isFile && (force || (await due()))) await attempt();
        } else if (force || (await due())) {
          await attempt();
        }
        // A file that went away leaves the last good list in use (lastError says why).
        if (good === null) good = await readSnapshot();
      })().finally(() => {
        inflight = null;
      });
    }
    await inflight;
    if (good === null) {
      const why = lastError ?? (options.readOnly ? 'not fetched (read-only)' : 'not fetched');
      throw new CertvigilError(
        'LOGLIST_UNAVAILABLE',
        `no log list: ${sanitizeText(sourceName, { maxLength: 300 })}: ${why}; no cached copy, no shipped snapshot`,
        { cause: lastCause },
      );
    }
    return stateOf(good);
  };

  return {
    source: sourceName,
    current: () => run(false),
    refresh: (force = false) => run(force),
  };
}

/** Whether `err` is the "nothing at all" failure of `current()`. */
export function isLogListUnavailable(err: unknown): boolean {
  return isCertvigilError(err) && err.code === 'LOGLIST_UNAVAILABLE';
}
