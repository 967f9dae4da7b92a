/**
 * @module cli/commands/monitor
 * `certvigil monitor` — watch CT logs for certificates of your names and alert on those your own
 * ACME clients did not obtain. `--once` catches up every log and exits (for cron):
 * 0 all logs read and verified, 1 a log misbehaved, 2 a log could not be read (or usage error).
 * Without `--once` it runs as a daemon, re-reading the watch list and inventory every cycle.
 *
 * Everything is checked before the store is opened (flags, config, watch list, inventory paths,
 * log list, alert sinks, resolver): a usage error creates nothing. A missing inventory path is a
 * usage error for `--once`; the daemon raises a health alert instead and keeps running.
 */
import type { Command } from 'commander';
import { CtHttpClient } from '../../ct/http.js';
import { CertvigilError } from '../../errors.js';
import { scanInventory } from '../../inventory/index.js';
import { sanitizeText } from '../../sanitize.js';
import { cycleExitCode, runCycle } from '../../monitor/monitor.js';
import type { CycleResult } from '../../monitor/monitor.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
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
  selectLogs,
} from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { makeProgress } from '../progress.js';

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

export function registerMonitor(program: Command, ctx: Ctx): void {
  addMonitorOptions(
    program
      .command('monitor')
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
          'Daemon (without --once): 0 after SIGTERM/SIGINT, 2 for a usage error at start; a missing inventory\n' +
          'path is a health alert, and the daemon keeps running.',
      )
      .option('--once', 'catch up once and exit (for cron)')
      .option(
        '--start-at-end',
        'on the first run, start at the current end of each log instead of its first entry',
      )
      .option(
        '--interval <duration>',
        'daemon: time between cycles, e.g. 90s, 5m (bare number: seconds; 1s to 24d; default 5m)',
      )
      .option('--caa-resolver <host:port|off>', 'resolver for the CAA heuristic (default /etc/resolv.conf)'),
  ).action(async (flags: MonitorFlags & { caaResolver?: string }) => {
    // Every check before the store: a usage error leaves no state directory behind.
    const config = await loadConfig(flags);
    if (flags.caaResolver !== undefined) {
      if (flags.caaResolver.trim() === '')
        throw new CertvigilError('USAGE', '--caa-resolver must not be empty');
      config.caaResolver = flags.caaResolver === 'off' ? false : flags.caaResolver;
    }
    let watch = await loadWatchList(config, flags.config);
    if (flags.once) await requireReadableInventory(config);
    else {
      for (const p of await inventoryProblems(config))
        ctx.logger.warn({}, `${p}: a health alert is raised and the last inventory kept`);
    }
    const notifiers = notifiersFor(config);
    const caaResolver = await caaResolverFor(config);
    // Last: it may fetch the list over the network.
    let logs = await selectLogs(config, ctx.logger);
    const onSkip = (path: string, reason: string): void =>
      ctx.logger.debug({ path: sanitizeText(path) }, `inventory: skipped: ${sanitizeText(reason)}`);

    const store = await openConfiguredStore(config);
    try {
      await store.lock(lockOwner());
      const abort = new AbortController();
      const stop = (): void => abort.abort(new Error('stopping on signal'));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      for (let cycle = 0; ; cycle++) {
        if (cycle > 0) {
          // The daemon re-reads the watch list and the log list; a broken edit is reported and the
          // last good one kept, so a typo does not stop the monitoring.
          try {
            watch = await loadWatchList(config, flags.config);
          } catch (err) {
            ctx.logger.warn({}, `watch list not reloaded, keeping the last one: ${(err as Error).message}`);
          }
          try {
            logs = await selectLogs(config, ctx.logger);
          } catch (err) {
            ctx.logger.warn(
              {},
              `log list not reloaded, keeping the last one: ${sanitizeText((err as Error).message)}`,
            );
          }
        }
        const progress = makeProgress('catch-up', ctx.logger);
        const result = await runCycle(
          {
            store,
            notifiers,
            scanInventory:
              config.inventory.length > 0 ? () => scanInventory(config.inventory, { onSkip }) : null,
            caaResolver,
            caaIssuers: config.caaIssuers,
            httpFor: () => new CtHttpClient({ maxConcurrency: 4, signal: abort.signal }),
            log: ctx.logger,
            onProgress: (done, total) => progress.update(done, total),
            signal: abort.signal,
          },
          { logs, watch, startAtEnd: config.startAtEnd, concurrency: config.concurrency },
        );
        progress.stop();
        process.stderr.write(`${summarize(result)}\n`);
        if (flags.once || abort.signal.aborted) {
          ctx.setExit(flags.once ? cycleExitCode(result) : EXIT.OK);
          return;
        }
        await new Promise<void>((resolve) => {
          // intervalMs is bounded by parseDuration (≤ 2^31 − 1 ms): a larger value would fire at once.
          const timer = setTimeout(resolve, config.intervalMs);
          abort.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        if (abort.signal.aborted) return;
      }
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
  });
}
