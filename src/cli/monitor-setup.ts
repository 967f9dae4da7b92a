/**
 * @module cli/monitor-setup
 * Flags + config file → a resolved `MonitorConfig`, and the concrete pieces the monitor runs on
 * (store, notifiers, watch list, resolver). Only the CLI builds concrete I/O.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { parseEndpoint, StubResolver, loadResolvConf } from '../dns/index.js';
import { CertvigilError } from '../errors.js';
import { createLogListSource } from '../ct/index.js';
import type { LogInfo, LogListSource, LogListState } from '../ct/index.js';
import { inventoryPathProblem, scanInventory } from '../inventory/index.js';
import type { InventoryScan } from '../inventory/index.js';
import {
  buildFromEntries,
  MAX_CONCURRENCY,
  parseWatchEntry,
  parseWatchListEntries,
  readConfigFile,
  resolveConfig,
  WatchListError,
} from '../monitor/index.js';
import type { ConfigFile, MonitorConfig, WatchEntry, WatchList } from '../monitor/index.js';
import { createNotifiers } from '../notify/index.js';
import type { Notifier } from '../notify/index.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { sanitizeText } from '../sanitize.js';
import { collect, parseDuration } from './flags.js';
import { addStateOptions, defaultStateDir } from './state-options.js';
import type { Logger } from './logger.js';

export interface StateFlags {
  config?: string;
  stateDir?: string;
  database?: string;
}

export interface MonitorFlags extends StateFlags {
  /** `monitor --group`: share the SQLite state read-only with this group. */
  group?: string;
  logList?: string;
  watchlist?: string;
  inventory?: string[];
  log?: string[];
  startAtEnd?: boolean;
  once?: boolean;
  interval?: string;
  json?: boolean;
}

export { addStateOptions };

export function addMonitorOptions(cmd: Command): Command {
  return addStateOptions(cmd)
    .option(
      '--log-list <file|url>',
      "CT log list v3 (default: the union of Chrome's and Apple's lists, cached, signed snapshot as fallback)",
    )
    .option(
      '--watchlist <file|->',
      'names to watch (certspotter syntax): example.com, .example.com with subdomains, . every name; - for stdin',
    )
    .option(
      '--inventory <dir>',
      'where ACME clients keep certificates obtained here (repeatable; must exist and be readable)',
      collect,
    )
    .option('--log <url>', 'monitor only this log of the list (repeatable)', collect);
}

/** A flag's value, quoted and escaped for a one-line message. */
function shown(value: string): string {
  return `"${sanitizeText(value, { maxLength: 80 })}"`;
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && value.trim() === '')
    throw new CertvigilError('USAGE', `${flag} must not be empty`);
  return value;
}

/**
 * Flags over the config file, every value checked: a usage error (exit 2) is thrown here, before
 * anything opens or creates the store or the state directory.
 */
export async function loadConfig(flags: MonitorFlags): Promise<MonitorConfig> {
  const file: ConfigFile =
    flags.config !== undefined ? await readConfigFile(nonEmpty(flags.config, '--config') ?? '') : {};
  const fromFlags: Partial<MonitorConfig> = {};
  const stateDir = nonEmpty(flags.stateDir, '--state-dir');
  if (stateDir !== undefined) fromFlags.stateDir = stateDir;
  const database = nonEmpty(flags.database, '--database');
  if (database !== undefined) fromFlags.database = database;
  if (flags.group !== undefined) fromFlags.group = flags.group;
  const logList = nonEmpty(flags.logList, '--log-list');
  if (logList !== undefined) fromFlags.logList = logList;
  const watchlist = nonEmpty(flags.watchlist, '--watchlist');
  if (watchlist !== undefined) fromFlags.watchlistFile = watchlist;
  if (flags.inventory?.length)
    fromFlags.inventory = flags.inventory.map((p) => nonEmpty(p, '--inventory') ?? p);
  if (flags.log?.length) fromFlags.logs = flags.log;
  if (flags.startAtEnd) fromFlags.startAtEnd = true;
  // Seconds when bare (the documented unit); at least 1 s, at most what a timer can hold.
  if (flags.interval !== undefined)
    fromFlags.intervalMs = parseDuration(flags.interval, '--interval', { unit: 's', minMs: 1000 });
  const config = resolveConfig(file, fromFlags, {
    stateDir: defaultStateDir(),
    logList: null,
  });
  checkConfig(config);
  return config;
}

/** Meaning checks the schema cannot make; each a usage error naming the flag or key, never a secret. */
function checkConfig(config: MonitorConfig): void {
  for (const url of config.logs) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok)
      throw new CertvigilError(
        'USAGE',
        `--log (or logs: in the config) ${shown(url)} is not an http(s) URL of a CT log`,
      );
  }
  if (config.database !== null) {
    // The URL holds the database password: it is never repeated in a message.
    let ok = false;
    try {
      const u = new URL(config.database);
      ok = /^postgres(?:ql)?:$/i.test(u.protocol) && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok)
      throw new CertvigilError(
        'USAGE',
        '--database (or database: in the config) must be a postgres://USER@HOST/DB URL (leave it out to keep the state in SQLite)',
      );
  }
  // A state directory that is a file would fail deep inside SQLite, after other checks passed.
  try {
    if (!statSync(config.stateDir).isDirectory())
      throw new CertvigilError(
        'USAGE',
        `state directory ${shown(config.stateDir)} exists and is not a directory`,
      );
  } catch (err) {
    if (err instanceof CertvigilError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR')
      throw new CertvigilError(
        'USAGE',
        `state directory ${shown(config.stateDir)}: ${(err as Error).message}`,
      );
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new CertvigilError(
        'USAGE',
        `state directory ${shown(config.stateDir)}: a parent is not a directory`,
      );
  }
  if (config.concurrency > MAX_CONCURRENCY)
    throw new CertvigilError('USAGE', `concurrency must be at most ${MAX_CONCURRENCY}`);
}

/**
 * The configured inventory paths that cannot be scanned at all, with why (sanitised). `monitor
 * --once` and `inventory scan` refuse them (usage error); the daemon alerts and keeps running.
 */
export async function inventoryProblems(config: MonitorConfig): Promise<string[]> {
  const out: string[] = [];
  for (const path of config.inventory) {
    const problem = await inventoryPathProblem(path);
    if (problem !== null) out.push(`inventory path ${shown(path)}: ${sanitizeText(problem)}`);
  }
  return out;
}

/** Throws a one-line usage error for the first unreadable inventory path. */
export async function requireReadableInventory(config: MonitorConfig): Promise<void> {
  const problems = await inventoryProblems(config);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new CertvigilError('USAGE', `${problems[0] ?? ''}${more}`);
  }
}

/**
 * Scans the configured inventory for a one-shot command (`inventory scan`, `inventory push`): none
 * given, or a path missing or unreadable, is a usage error before anything is stored or sent (a
 * missing path is not an empty inventory); why a file was skipped is logged at debug.
 */
export async function scanConfiguredInventory(config: MonitorConfig, logger: Logger): Promise<InventoryScan> {
  if (config.inventory.length === 0)
    throw new CertvigilError('USAGE', 'give --inventory DIR (or `inventory:` in the config)');
  await requireReadableInventory(config);
  return scanInventory(config.inventory, {
    onSkip: (path, reason) =>
      logger.debug({ path: sanitizeText(path) }, `inventory: skipped: ${sanitizeText(reason)}`),
  });
}

export interface StoreOpenOptions {
  /**
   * The command only reads: nothing is created (no state directory, database or schema); a
   * missing state is the usage error "no certvigil state at DIR (run `certvigil monitor` first)".
   */
  readOnly?: boolean;
  /**
   * The command writes, but only to a state that exists (e.g. `certs unauthorize`: there is
   * nothing to withdraw from a state never created): a missing state is the same error as for a
   * reader, and nothing is created.
   */
  mustExist?: boolean;
}

/**
 * Opens the configured store and brings its schema up to date (read-only: checks it). Closed
 * again if that fails, so a failed open leaves no handle (nor lock) behind.
 */
export async function openConfiguredStore(
  config: Pick<MonitorConfig, 'stateDir' | 'database'>,
  options: StoreOpenOptions = {},
): Promise<Store> {
  const store = await openStore({
    stateDir: config.stateDir,
    ...(config.database ? { databaseUrl: config.database } : {}),
    readOnly: options.readOnly === true,
  });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/**
 * Runs `fn` with the configured store open, and closes it whatever happens. The whole
 * configuration is loaded and validated first: a bad flag or config file never gets as far as
 * opening (and, for a writer, creating) the state.
 */
export async function withStore<T>(
  flags: MonitorFlags,
  fn: (store: Store) => Promise<T>,
  options: StoreOpenOptions = {},
): Promise<T> {
  const config = await loadConfig(flags);
  if (options.mustExist === true && options.readOnly !== true)
    await (await openConfiguredStore(config, { readOnly: true })).close();
  const store = await openConfiguredStore(config, options);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * `monitor --group GROUP`: the gid to share the SQLite state directory with, checked before
 * anything is created (usage errors). A name is looked up through NSS (`getent group`, so LDAP and
 * sssd groups work too), a number taken as a gid. Only root or a member may give files to a group.
 */
export async function resolveShareGroup(
  value: string,
  config: Pick<MonitorConfig, 'database'>,
): Promise<number> {
  const shownGroup = shown(value);
  if (value.trim() === '') throw new CertvigilError('USAGE', '--group must not be empty');
  if (config.database !== null)
    throw new CertvigilError(
      'USAGE',
      '--group shares the SQLite state directory; with --database, give the monitoring user a read-only PostgreSQL role instead (docs/monitoring-plugin.md)',
    );
  let gid: number | undefined;
  if (/^\d{1,10}$/.test(value)) gid = Number(value);
  else if (/^[A-Za-z_][A-Za-z0-9_.-]{0,63}\$?$/.test(value)) {
    const line = await new Promise<string>((resolve) => {
      execFile('getent', ['group', value], { timeout: 10_000 }, (err, stdout) =>
        resolve(err ? '' : String(stdout)),
      );
    });
    const field = line.split('\n')[0]?.split(':')[2];
    if (field !== undefined && /^\d+$/.test(field)) gid = Number(field);
  } else throw new CertvigilError('USAGE', `--group ${shownGroup} is not a group name or number`);
  if (gid === undefined || gid > 0xfffffffe)
    throw new CertvigilError('USAGE', `--group ${shownGroup}: no such group`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const member =
    uid === 0 ||
    (typeof process.getegid === 'function' && process.getegid() === gid) ||
    (typeof process.getgroups === 'function' && process.getgroups().includes(gid));
  if (!member)
    throw new CertvigilError(
      'USAGE',
      `--group ${shownGroup}: you (uid ${uid}) are not a member of group ${gid}, so you cannot give the state to it; add the monitor's user to the group, or run \`chgrp\` as root`,
    );
  return gid;
}

export function lockOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/** A watch list larger than this is not a list of names (and `-` could be an endless pipe). */
const MAX_WATCHLIST_BYTES = 16 << 20;
/** stdin can be read once: the daemon re-reads a file every cycle, but keeps what `-` gave. */
let stdinWatchList: Promise<Uint8Array> | null = null;

async function readWatchListBytes(path: string): Promise<Uint8Array> {
  const where = sanitizeText(path, { maxLength: 200 });
  const fail = (why: string): never => {
    throw new CertvigilError('USAGE', `cannot read watch list ${where}: ${why}`);
  };
  if (path === '-') {
    stdinWatchList ??= (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin) {
        size += (chunk as Buffer).length;
        if (size > MAX_WATCHLIST_BYTES) fail(`more than ${MAX_WATCHLIST_BYTES} bytes on stdin`);
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    })();
    return stdinWatchList;
  }
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    return fail(fsReasonOf(err));
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) return fail('a directory');
    if (!st.isFile()) return fail('not a regular file');
    if (st.size > MAX_WATCHLIST_BYTES)
      return fail(`${st.size} bytes is over the ${MAX_WATCHLIST_BYTES}-byte limit`);
    return await handle.readFile();
  } catch (err) {
    if (err instanceof CertvigilError) throw err;
    return fail(fsReasonOf(err));
  } finally {
    await handle.close();
  }
}

function fsReasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = (e.message ?? String(err)).replace(/^[A-Z0-9_]+: /, '').replace(/, \w+ '.*'$/s, '');
  return sanitizeText(e.code !== undefined ? `${text} (${e.code})` : text);
}

/**
 * The watch list from the file (or stdin, `-`) and/or the config's `names`; the file is re-read by
 * the daemon every cycle. Errors name FILE:LINE (or the config's `names[i]`).
 */
export async function loadWatchList(config: MonitorConfig, configPath?: string): Promise<WatchList> {
  const entries: WatchEntry[] = [];
  const where = configPath !== undefined ? `${sanitizeText(configPath, { maxLength: 200 })}: ` : 'config ';
  config.names.forEach((raw, i) => {
    let entry: WatchEntry | null;
    try {
      entry = parseWatchEntry(raw);
    } catch (err) {
      throw new WatchListError(`${where}names[${i}]: ${(err as Error).message}`);
    }
    if (entry === null) throw new WatchListError(`${where}names[${i}]: empty name`);
    entries.push(entry);
  });
  if (config.watchlistFile !== null) {
    const bytes = await readWatchListBytes(config.watchlistFile);
    entries.push(
      ...parseWatchListEntries(bytes, config.watchlistFile === '-' ? '(stdin)' : config.watchlistFile),
    );
  }
  if (entries.length === 0)
    throw new CertvigilError(
      'USAGE',
      config.watchlistFile !== null
        ? `watch list ${config.watchlistFile === '-' ? '(stdin)' : sanitizeText(config.watchlistFile)} names nothing to watch`
        : 'nothing to watch: give --watchlist FILE or `names:` in the config',
    );
  return buildFromEntries(entries);
}

const logListSources = new Map<string, LogListSource>();

/**
 * The monitor's log list as a cached, signed input: fetched at most every
 * `logListMaxAgeMs`, the last good copy kept in the state directory, the signed snapshot shipped in
 * data/ when there is no copy yet. One source per location and directory for the process's life, so
 * the daemon's passes and a SIGHUP share its cache and its memory of failures.
 */
export function logListSourceFor(config: MonitorConfig): LogListSource {
  const key = JSON.stringify([
    config.logList,
    config.stateDir,
    config.logListMaxAgeMs,
    config.logListGraceMs,
  ]);
  let source = logListSources.get(key);
  if (source === undefined) {
    source = createLogListSource({
      ...(config.logList !== null ? { location: config.logList } : {}),
      cacheDir: config.stateDir,
      maxAgeMs: config.logListMaxAgeMs,
      graceMs: config.logListGraceMs,
    });
    logListSources.set(key, source);
  }
  return source;
}

/**
 * Rejected and retired logs take no new certificates; monitor the rest (or exactly `config.logs`).
 * `onList` sees the list's state (source, age, last refresh error) for the monitor's health.
 */
export async function selectLogs(
  config: MonitorConfig,
  logger: Logger,
  onList?: (state: LogListState) => void,
): Promise<LogInfo[]> {
  const list = await logListSourceFor(config).current();
  onList?.(list);
  const where = sanitizeText(list.source, { maxLength: 200 });
  for (const w of list.warnings) logger.warn({ logList: where }, sanitizeText(w));
  if (list.lastError !== null)
    logger.warn(
      { logList: where, origin: list.origin, fetchedAt: list.fetchedAt },
      `log list not reloaded, keeping the last one (${list.origin}): ${list.lastError}`,
    );
  if (config.logs.length > 0) {
    const norm = (u: string): string => u.replace(/\/+$/, '');
    const wanted = new Set(config.logs.map(norm));
    const chosen = list.logs.filter((l) => wanted.has(norm(l.url)));
    const missing = config.logs.filter((u) => !chosen.some((l) => norm(l.url) === norm(u)));
    if (missing.length > 0)
      throw new CertvigilError(
        'USAGE',
        `not in the log list: ${sanitizeText(missing.join(', '), { maxLength: 300 })}`,
      );
    return dedupe(chosen);
  }
  return dedupe(list.logs.filter((l) => l.state !== 'rejected' && l.state !== 'retired'));
}

/** One log may be listed under both APIs (same log ID): read it once, over the first listed. */
function dedupe(logs: LogInfo[]): LogInfo[] {
  const seen = new Set<string>();
  return logs.filter((l) => (seen.has(l.logId) ? false : (seen.add(l.logId), true)));
}

export function notifiersFor(config: MonitorConfig): Notifier[] {
  const alerts = config.alerts;
  const configured = Boolean(alerts.email || alerts.webhook || alerts.exec || alerts.stdout);
  // With no sink configured, alerts go to stdout as JSON lines (like certspotter -stdout).
  return createNotifiers(configured ? alerts : { ...alerts, stdout: true });
}

export async function caaResolverFor(config: MonitorConfig): Promise<StubResolver | null> {
  if (config.caaResolver === false) return null;
  if (typeof config.caaResolver === 'string') {
    return new StubResolver({ servers: config.caaResolver.split(',').map((s) => parseEndpoint(s)) });
  }
  const conf = await loadResolvConf();
  return new StubResolver({ servers: conf.servers, timeoutMs: conf.timeoutMs, attempts: conf.attempts });
}
