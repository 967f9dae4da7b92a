/**
 * @module cli/monitor-setup
 * Flags + config file → a resolved `MonitorConfig`, and the concrete pieces the monitor runs on
 * (store, notifiers, watch list, resolver). Only the CLI builds concrete I/O.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { parseEndpoint, StubResolver, loadResolvConf } from '../dns/index.js';
import { CertvigilError } from '../errors.js';
import { DEFAULT_LOG_LIST_URL, loadLogList } from '../ct/loglist.js';
import type { LogInfo } from '../ct/types.js';
import { readConfigFile, resolveConfig } from '../monitor/config.js';
import type { ConfigFile, MonitorConfig } from '../monitor/config.js';
import { buildWatchList, parseWatchList } from '../monitor/watchlist.js';
import type { WatchList } from '../monitor/watchlist.js';
import { createNotifiers } from '../notify/index.js';
import type { Notifier } from '../notify/types.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { collect, positiveInt } from './flags.js';
import { defaultStateDir } from './ct-options.js';
import type { Logger } from './logger.js';

export interface StateFlags {
  config?: string;
  stateDir?: string;
  database?: string;
}

export interface MonitorFlags extends StateFlags {
  logList?: string;
  watchlist?: string;
  inventory?: string[];
  log?: string[];
  startAtEnd?: boolean;
  once?: boolean;
  interval?: string;
  json?: boolean;
}

export function addStateOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML configuration file (flags override it)')
    .option('--state-dir <dir>', `where the monitor keeps its state (default ${defaultStateDir()})`)
    .option('--database <url>', 'postgres:// URL: keep the state in PostgreSQL instead of SQLite');
}

export function addMonitorOptions(cmd: Command): Command {
  return addStateOptions(cmd)
    .option('--log-list <file|url>', `CT log list v3 (default ${DEFAULT_LOG_LIST_URL})`)
    .option(
      '--watchlist <file>',
      'names to watch, one per line: example.com exactly, .example.com with subdomains',
    )
    .option('--inventory <dir>', 'where ACME clients keep certificates obtained here (repeatable)', collect)
    .option('--log <url>', 'monitor only this log of the list (repeatable)', collect);
}

export async function loadConfig(flags: MonitorFlags): Promise<MonitorConfig> {
  const file: ConfigFile = flags.config ? await readConfigFile(flags.config) : {};
  const fromFlags: Partial<MonitorConfig> = {};
  if (flags.stateDir) fromFlags.stateDir = flags.stateDir;
  if (flags.database) fromFlags.database = flags.database;
  if (flags.logList) fromFlags.logList = flags.logList;
  if (flags.watchlist) fromFlags.watchlistFile = flags.watchlist;
  if (flags.inventory?.length) fromFlags.inventory = flags.inventory;
  if (flags.log?.length) fromFlags.logs = flags.log;
  if (flags.startAtEnd) fromFlags.startAtEnd = true;
  if (flags.interval) fromFlags.intervalSeconds = positiveInt(flags.interval, '--interval');
  return resolveConfig(file, fromFlags, { stateDir: defaultStateDir(), logList: DEFAULT_LOG_LIST_URL });
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

export function lockOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/** The watch list from the file and/or the config's `names`; the file is re-read by the daemon. */
export async function loadWatchList(config: MonitorConfig): Promise<WatchList> {
  const names = [...config.names];
  if (config.watchlistFile) {
    let text: string;
    try {
      text = await readFile(config.watchlistFile, 'utf8');
    } catch (cause) {
      throw new CertvigilError(
        'CONFIG_INVALID',
        `cannot read watch list ${config.watchlistFile}: ${(cause as Error).message}`,
        { cause },
      );
    }
    names.push(...parseWatchList(text).entries);
  }
  if (names.length === 0)
    throw new CertvigilError('USAGE', 'nothing to watch: give --watchlist FILE or `names:` in the config');
  return buildWatchList(names);
}

/** Rejected and retired logs take no new certificates; monitor the rest (or exactly `config.logs`). */
export async function selectLogs(config: MonitorConfig, logger: Logger): Promise<LogInfo[]> {
  const list = await loadLogList(config.logList);
  for (const w of list.warnings) logger.warn({ logList: config.logList }, w);
  if (config.logs.length > 0) {
    const norm = (u: string): string => u.replace(/\/+$/, '');
    const wanted = new Set(config.logs.map(norm));
    const chosen = list.logs.filter((l) => wanted.has(norm(l.url)));
    const missing = config.logs.filter((u) => !chosen.some((l) => norm(l.url) === norm(u)));
    if (missing.length > 0) throw new CertvigilError('USAGE', `not in the log list: ${missing.join(', ')}`);
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
