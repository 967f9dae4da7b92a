/**
 * @module cli/commands/monitor
 * `certvigil monitor` — watch CT logs for certificates of your names and alert on those your own
 * ACME clients did not obtain. `--once` catches up every log and exits (for cron):
 * 0 all logs read and verified, 1 a log misbehaved, 2 a log could not be read (or usage error).
 * Without `--once` it runs as a daemon (monitor/daemon.ts): one independent loop per log, the outbox
 * drained as commits come in, the watch list, inventory and log list re-read every pass (the last
 * good log list kept when it cannot be loaded); SIGHUP re-reads the config file too.
 *
 * Everything is checked before the store is opened (flags, config, watch list, inventory paths,
 * log list, alert sinks, resolver): a usage error creates nothing. A missing inventory path is a
 * usage error for `--once`; the daemon raises a health alert instead and keeps running.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CtHttpClient } from '../../ct/index.js';
import { CertvigilError } from '../../errors.js';
import { scanInventory } from '../../inventory/index.js';
import { sanitizeText } from '../../sanitize.js';
import { shareStateDir, sqliteFiles } from '../../state-files.js';
import { SQLITE_FILE_NAME } from '../../store/index.js';
import type { LogInfo, LogListState } from '../../ct/index.js';
import { cycleExitCode, limitsFor, logListStaleAlert, MonitorDaemon, runCycle } from '../../monitor/index.js';
import type { CycleDeps, CycleResult, MonitorConfig } from '../../monitor/index.js';
import { DEFAULT_MAX_AGE_S, readHealthReport } from '../../health/index.js';
import { heartbeatDue, heartbeatEvent } from '../../notify/index.js';
import type { LogHealthRecord, MonitorStatusRecord } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { parseDuration, writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import type { Logger } from '../logger.js';
import {
  addMonitorOptions,
  caaResolverFor,
  inventoryProblems,
  loadConfig,
  loadWatchList,
  lockOwner,
  notifiersFor,
  openConfiguredStore,
  requireReadableInventory,
  resolveShareGroup,
  selectLogs,
} from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { makeProgress } from '../progress.js';
import { checkSourceAddress } from '../source-address.js';
import { addServeOptions, auditCapability, domainsOf, prepareServe, startServe } from './serve.js';
import type { RunningServer, ServeFlags, ServeSettings } from './serve.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

function summarize(result: CycleResult): string {
  const lines = result.logs.map(({ log, result: r }) => {
    // The log list's description and the log's error text are outside text.
    const where = sanitizeText(`${log.description} (${log.url})`);
    if (r.status === 'ok')
      return `ok ${where}: ${r.entriesRead} new entries, ${r.matched} matched, ${r.malformed} malformed, at ${r.position}/${r.treeSize}`;
    return `${r.status.toUpperCase()} ${where}: ${sanitizeText(r.message ?? '', { maxLength: 500 })}`;
  });
  const inv = result.inventory;
  lines.push(
    `alerts: ${result.delivery.delivered} delivered, ${result.delivery.failed} failed, ${result.delivery.skipped} no longer needed` +
      (inv
        ? `; inventory: ${inv.certificates} certificates, ${inv.errors} unreadable files` +
          (inv.unreadablePaths > 0
            ? `, ${inv.unreadablePaths} inventory path(s) unreadable (last inventory kept, health alert raised)`
            : '')
        : ''),
  );
  return lines.join('\n');
}

/**
 * `monitor --once --json`: the run as one object, the LAST line of stdout (alerts of a stdout sink
 * come before it): `entriesRead` is what THIS process read, summed over the logs, so the share of
 * each of several processes is visible; every outside string sanitised.
 */
export function onceJson(result: CycleResult, exitCode: number): Record<string, unknown> {
  const logs = result.logs.map(({ log, result: r }) => ({
    url: sanitizeText(log.url, { maxLength: 500 }),
    status: r.status,
    treeSize: r.treeSize,
    position: r.position,
    verifiedSize: r.verifiedSize,
    entriesRead: r.entriesRead,
    matched: r.matched,
    malformed: r.malformed,
    message: r.message === null ? null : sanitizeText(r.message, { maxLength: 500 }),
  }));
  return {
    entriesRead: logs.reduce((n, l) => n + l.entriesRead, 0),
    matched: logs.reduce((n, l) => n + l.matched, 0),
    malformed: logs.reduce((n, l) => n + l.malformed, 0),
    exitCode,
    logs,
    alerts: {
      delivered: result.delivery.delivered,
      failed: result.delivery.failed,
      skipped: result.delivery.skipped,
    },
    inventory: result.inventory,
  };
}

/** Identifies a version of the watch list file (null: stdin, none, or unreadable now). */
async function stampOf(path: string | null): Promise<string | null> {
  if (path === null || path === '-') return null;
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

export function registerMonitor(program: Command, ctx: Ctx): void {
  addMonitorOptions(
    addServeOptions(program.command('monitor'))
      .summary('watch CT logs for certificates of your names; alert on those you did not obtain')
      .description(
        'Catch every log of the list up to its signed tree head, verify it, record every certificate for a watched\n' +
          'name, compare it with the certificates your own ACME clients obtained (--inventory) and alert on the others,\n' +
          'with the reasons they look wrong.\n\n' +
          'Everything (flags, config, watch list, inventory paths, log list) is checked before the state is\n' +
          'opened: a usage error creates nothing. Durations take 500ms, 15s, 5m, 2h; a bare number is seconds.',
      )
      .addHelpText(
        'after',
        '\nExit status with --once: 0 all logs read and verified, 1 a log misbehaved, 2 a log could not be read,\n' +
          'or a usage error (bad flag, config or watch list; an inventory path that is missing or unreadable);\n' +
          '2 wins: a log that could not be read cannot be vouched for.\n' +
          'Daemon (without --once): 0 after SIGTERM/SIGINT (the current commits finish first), 2 for a usage\n' +
          'error at start (also: --serve cannot listen, or a non-loopback --serve address without TLS or\n' +
          '--insecure-http); a missing inventory path is a health alert, and the daemon keeps running. SIGHUP\n' +
          're-reads the config file, the watch list and the inventory (a broken config keeps the old one).',
      )
      .option('--once', 'catch up once and exit (for cron)')
      .option(
        '--unit-lease <duration>',
        'how long a claimed work unit stays this worker’s without a renewal (1s-1h; bare number: seconds; default 15s)',
      )
      .option(
        '--worker-id <id>',
        'this process among the workers sharing a --database (default host:pid); shown by `status`',
      )
      .option(
        '--source-address <addr>',
        'connect to CT logs from this address of this host (config: ctSourceAddress): spread several workers on a multi-homed host over its addresses, because public logs rate-limit per IP',
      )
      .option(
        '--json',
        'with --once: print the run as one JSON object, the last line of stdout ({"entriesRead", "logs": […], …})',
      )
      .option(
        '--start-at-end',
        'on the first run, start at the current end of each log instead of its first entry',
      )
      .option(
        '--interval <duration>',
        'daemon: time between cycles, e.g. 90s, 5m (bare number: seconds; 1s to 24d; default 5m)',
      )
      .option('--caa-resolver <host:port|off>', 'resolver for the CAA heuristic (default /etc/resolv.conf)')
      .option(
        '--group <group>',
        'share the SQLite state read-only with this group (name or gid; config: group), e.g. nagios for `check monitor`: directory 2750, database 0640, rollback journal (docs/monitoring-plugin.md)',
      )
      .option(
        '--serve <host:port>',
        'daemon: also serve the dashboard, the HTTP API and /metrics here (as `certvigil serve`; TLS flags below)',
      ),
  ).action(
    async (
      flags: MonitorFlags &
        ServeFlags & {
          caaResolver?: string;
          serve?: string;
          json?: boolean;
          workerId?: string;
          unitLease?: string;
          sourceAddress?: string;
        },
    ) => {
      // Every check before the store: a usage error leaves no state directory behind.
      const configure = async (): Promise<MonitorConfig> => {
        const c = await loadConfig(flags);
        if (flags.caaResolver !== undefined) {
          if (flags.caaResolver.trim() === '')
            throw new CertvigilError('USAGE', '--caa-resolver must not be empty');
          c.caaResolver = flags.caaResolver === 'off' ? false : flags.caaResolver;
        }
        if (flags.sourceAddress !== undefined) c.ctSourceAddress = flags.sourceAddress;
        if (c.ctSourceAddress != null) {
          const what = flags.sourceAddress !== undefined ? '--source-address' : 'ctSourceAddress';
          await checkSourceAddress(c.ctSourceAddress, what);
        }
        return c;
      };
      let config = await configure();
      // `--serve`: every serving flag and the TLS files are checked now, before the state is opened.
      const serveFlagGiven =
        flags.tlsCert !== undefined ||
        flags.tlsKey !== undefined ||
        flags.insecureHttp === true ||
        flags.auditInterval !== undefined;
      if (flags.serve === undefined && serveFlagGiven)
        throw new CertvigilError(
          'USAGE',
          '--tls-cert, --tls-key, --insecure-http and --audit-interval go with --serve',
        );
      const unitLeaseMs =
        flags.unitLease === undefined
          ? null
          : parseDuration(flags.unitLease, '--unit-lease', { unit: 's', minMs: 1000, maxMs: 3_600_000 });
      if (flags.workerId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(flags.workerId))
        throw new CertvigilError(
          'USAGE',
          '--worker-id must be 1-128 printable ASCII characters without spaces',
        );
      if (flags.json && !flags.once)
        throw new CertvigilError('USAGE', '--json goes with --once (the daemon logs JSON lines on stderr)');
      if (flags.serve !== undefined && flags.once)
        throw new CertvigilError(
          'USAGE',
          '--serve runs the server inside the daemon: leave out --once (or run `certvigil serve`)',
        );
      const serving: ServeSettings | null =
        flags.serve !== undefined ? await prepareServe(flags.serve, flags, '--serve') : null;
      const group = config.group ?? undefined;
      const shareWith = group !== undefined ? await resolveShareGroup(group, config) : undefined;
      let watch = await loadWatchList(config, flags.config);
      if (flags.once) await requireReadableInventory(config);
      else {
        for (const p of await inventoryProblems(config))
          ctx.logger.warn({}, `${p}: a health alert is raised and the last inventory kept`);
      }
      let notifiers = notifiersFor(config);
      const caaResolver = await caaResolverFor(config);
      // Last: it may fetch the list over the network (cached, signed, snapshot as the last resort).
      let logList: LogListState | null = null;
      const onList = (state: LogListState): void => {
        logList = state;
      };
      let logs = await selectLogs(config, ctx.logger, onList);
      const onSkip = (path: string, reason: string): void =>
        ctx.logger.debug({ path: sanitizeText(path) }, `inventory: skipped: ${sanitizeText(reason)}`);

      if (shareWith !== undefined) {
        // Before the store opens: it picks its journal from the directory's mode. The run lock stays private.
        const db = join(config.stateDir, SQLITE_FILE_NAME);
        await shareStateDir(
          config.stateDir,
          shareWith,
          sqliteFiles(db).filter((f) => !f.endsWith('.lock')),
        );
      }
      const store = await openConfiguredStore(config);
      try {
        // SQLite: one monitor per state (the run lock). PostgreSQL: as many workers as wanted share
        // the store, each claiming work units under a lease (issue 18): no exclusive lock.
        if (store.kind === 'sqlite') await store.lock(lockOwner());
        // SQLite has one worker (the run lock): a fixed name. A worker that restarts under its
        // name gives back what its dead process held, instead of waiting out those leases.
        const workerId = flags.workerId ?? (store.kind === 'sqlite' ? 'local' : lockOwner());
        await store.releaseUnits(workerId);
        // The monitor's own health, for `certvigil status` and `check monitor`.
        let inventoryErrors = 0;
        const recordStatus = async (extra: Partial<MonitorStatusRecord> = {}): Promise<void> => {
          const list: LogListState | null = logList;
          await store.putMonitorStatus({
            inventoryErrors,
            ...(list !== null
              ? { logListSource: list.source, logListFetchedAt: list.fetchedAt, logListError: list.lastError }
              : {}),
            monitoredLogIds: logs.map((l) => l.logId),
            ...extra,
          });
        };
        // After each pass: a sign of life, and the opt-in heartbeat through the sinks when it is due.
        const onCycle = async (): Promise<void> => {
          const now = new Date();
          await recordStatus({ lastCycleAt: now.toISOString() });
          // A log list that stays unrefreshable past its grace period is a health alert (once a day).
          const list: LogListState | null = logList;
          if (list !== null && list.stale) await store.enqueueAlert(logListStaleAlert(list, now.getTime()));
          const every = config.alerts.heartbeat;
          if (every === undefined) return;
          const status = await store.getMonitorStatus();
          if (!heartbeatDue(status.lastHeartbeatAt, now, every)) return;
          const report = await readHealthReport(store, now);
          const stale = report.logs.filter(
            (l) => l.behindSeconds === null || l.behindSeconds > DEFAULT_MAX_AGE_S,
          ).length;
          const event = heartbeatEvent(now, {
            logs: report.logs.length,
            staleLogs: stale,
            pendingAlerts: report.pendingAlerts,
            lastCycleAt: now.toISOString(),
          });
          await store.enqueueAlert({ key: `heartbeat:${event.at}`, kind: 'health', payload: event });
          await store.putMonitorStatus({ lastHeartbeatAt: event.at });
        };
        await recordStatus();
        const abort = new AbortController();
        const stop = (): void => abort.abort(new Error('stopping on signal'));
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        // Each log gets its own client: its concurrency, rate limit and per-request deadline.
        const httpFor = (log: LogInfo, signal?: AbortSignal): CtHttpClient => {
          const limits = limitsFor(log, config);
          return new CtHttpClient({
            maxConcurrency: limits.concurrency,
            timeoutMs: limits.timeoutMs,
            ...(limits.requestsPerSecond !== null ? { requestsPerSecond: limits.requestsPerSecond } : {}),
            ...(config.ctSourceAddress != null ? { localAddress: config.ctSourceAddress } : {}),
            signal: signal ? AbortSignal.any([abort.signal, signal]) : abort.signal,
          });
        };
        const base = {
          store,
          // SQLite has one worker (the run lock): a fixed name, so a run after a crash resumes the
          // units the dead process held at once instead of waiting out their leases.
          workerId,
          ...(unitLeaseMs !== null ? { unitLeaseMs } : {}),
          get notifiers() {
            return notifiers;
          },
          get scanInventory() {
            const paths = config.inventory;
            return paths.length > 0 ? () => scanInventory(paths, { onSkip }) : null;
          },
          caaResolver,
          get caaIssuers() {
            return config.caaIssuers;
          },
          httpFor,
          readerConcurrencyFor: (log: LogInfo) => limitsFor(log, config).concurrency,
          logger: ctx.logger,
          signal: abort.signal,
          onLogHealth: (record: LogHealthRecord) => store.putLogHealth(record),
          onCycle,
        } satisfies CycleDeps;

        if (flags.once) {
          const progress = makeProgress('catch-up', ctx.logger);
          const result = await runCycle(
            { ...base, notifiers, onProgress: (done, total) => progress.update(done, total) },
            { logs, watch, startAtEnd: config.startAtEnd, concurrency: config.concurrency },
          );
          progress.stop();
          inventoryErrors = result.inventory?.unreadablePaths ?? 0;
          await recordStatus();
          process.stderr.write(`${summarize(result)}\n`);
          const exitCode = cycleExitCode(result);
          if (flags.json) await writeLine(jsonLine(onceJson(result, exitCode)));
          ctx.setExit(exitCode);
          return;
        }

        let watchStamp = await stampOf(config.watchlistFile);
        let refreshing: Promise<void> | null = null;
        const refreshWatch = (): Promise<void> =>
          (refreshing ??= (async () => {
            const stamp = await stampOf(config.watchlistFile);
            if (stamp === watchStamp) return;
            watchStamp = stamp;
            try {
              watch = await loadWatchList(config, flags.config);
            } catch (err) {
              ctx.logger.warn({}, `watch list not reloaded, keeping the last one: ${(err as Error).message}`);
            }
          })().finally(() => {
            refreshing = null;
          }));
        const daemon = new MonitorDaemon({
          ...base,
          get notifiers() {
            return notifiers;
          },
          get scanInventory() {
            const paths = config.inventory;
            return paths.length > 0 ? () => scanInventory(paths, { onSkip }) : null;
          },
          get caaIssuers() {
            return config.caaIssuers;
          },
          // The log list as last loaded; on failure the daemon keeps the last good one.
          loadLogList: async () => (logs = await selectLogs(config, ctx.logger, onList)),
          settings: () => ({ watch, startAtEnd: config.startAtEnd, intervalMs: config.intervalMs }),
          // The watch list file is re-read when it changed, before any log is read; a broken edit is
          // reported and the last good one kept, so a typo does not stop the monitoring.
          beforeAttempt: refreshWatch,
          onPass: (result, waiting) => {
            inventoryErrors = result.inventory?.unreadablePaths ?? inventoryErrors;
            // A log whose first attempt has not finished (slow or stuck) holds nothing up: say so.
            const pending = waiting.map(
              (l) => `WAITING ${sanitizeText(`${l.description} (${l.url})`)}: first attempt still running`,
            );
            process.stderr.write(`${[...pending, summarize(result)].join('\n')}\n`);
          },
        });
        // SIGHUP: re-read the config file, the watch list and (next pass) the inventory and the log
        // list, without losing state; a broken new config keeps the old one, and says why.
        const reload = (): void => {
          void (async () => {
            try {
              const next = await configure();
              const nextWatch = await loadWatchList(next, flags.config);
              const nextNotifiers = notifiersFor(next);
              if (next.stateDir !== config.stateDir || next.database !== config.database)
                ctx.logger.warn(
                  {},
                  'SIGHUP: the state location cannot change while running; restart to move it',
                );
              config = { ...next, stateDir: config.stateDir, database: config.database };
              watch = nextWatch;
              watchStamp = await stampOf(config.watchlistFile);
              notifiers = nextNotifiers;
              ctx.logger.info({}, 'SIGHUP: configuration, watch list and inventory paths reloaded');
            } catch (err) {
              ctx.logger.warn(
                {},
                `SIGHUP: configuration not reloaded, keeping the last one: ${sanitizeText((err as Error).message, { maxLength: 500 })}`,
              );
            }
            daemon.reload();
          })();
        };
        process.on('SIGHUP', reload);
        let server: RunningServer | null = null;
        try {
          if (serving !== null) {
            // The same store as the daemon (one connection, one lock); the watched domains are the
            // daemon's current watch list, reloaded with it.
            const auditDomain = await auditCapability(config, store);
            server = await startServe(
              serving,
              store,
              { watchedDomains: async () => domainsOf(watch), ...(auditDomain ? { auditDomain } : {}) },
              ctx.logger,
            );
            process.stderr.write(`certvigil: serving on ${server.url}\n`);
          }
          await daemon.run(abort.signal);
        } finally {
          process.off('SIGHUP', reload);
          await server?.close();
        }
        ctx.setExit(EXIT.OK);
      } catch (err) {
        if ((err as { code?: string }).code === 'STORE_LOCKED') {
          throw new CertvigilError(
            'USAGE',
            `another monitor is running on this state: ${(err as Error).message}`,
          );
        }
        throw err;
      } finally {
        await store.close();
      }
    },
  );
}
