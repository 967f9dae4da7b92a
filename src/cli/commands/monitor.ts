/**
 * @module cli/commands/monitor
 * `certvigil monitor` — watch CT logs for certificates of your names and alert on those your own
 * ACME clients did not obtain. `--once` catches up every log and exits (for cron):
 * 0 all logs read and verified, 1 a log misbehaved, 2 a log could not be read (or usage error).
 * Without `--once` it runs as a daemon, re-reading the watch list and inventory every cycle.
 */
import type { Command } from 'commander';
import { CtHttpClient } from '../../ct/http.js';
import { CertvigilError } from '../../errors.js';
import { scanInventory } from '../../inventory/index.js';
import { cycleExitCode, runCycle } from '../../monitor/monitor.js';
import type { CycleResult } from '../../monitor/monitor.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import {
  addMonitorOptions,
  caaResolverFor,
  loadConfig,
  loadWatchList,
  lockOwner,
  notifiersFor,
  openConfiguredStore,
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
    const where = `${log.description} (${log.url})`;
    if (r.status === 'ok')
      return `ok ${where}: ${r.entriesRead} new entries, ${r.matched} matched, ${r.malformed} malformed, at ${r.position}/${r.treeSize}`;
    return `${r.status.toUpperCase()} ${where}: ${r.message}`;
  });
  lines.push(
    `alerts: ${result.delivery.delivered} delivered, ${result.delivery.failed} failed, ${result.delivery.skipped} no longer needed` +
      (result.inventory
        ? `; inventory: ${result.inventory.certificates} certificates, ${result.inventory.errors} unreadable files`
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
          'Exit status with --once: 0 all logs read and verified, 1 a log misbehaved, 2 a log could not be read or\n' +
          'usage error (2 wins: a log that could not be read cannot be vouched for).',
      )
      .option('--once', 'catch up once and exit (for cron)')
      .option(
        '--start-at-end',
        'on the first run, start at the current end of each log instead of its first entry',
      )
      .option('--interval <seconds>', 'daemon: seconds between cycles (default 300)')
      .option('--caa-resolver <host:port|off>', 'resolver for the CAA heuristic (default /etc/resolv.conf)'),
  ).action(async (flags: MonitorFlags & { caaResolver?: string }) => {
    const config = await loadConfig(flags);
    if (flags.caaResolver) config.caaResolver = flags.caaResolver === 'off' ? false : flags.caaResolver;
    const store = await openConfiguredStore(config);
    try {
      await store.lock(lockOwner());
      const notifiers = notifiersFor(config);
      const caaResolver = await caaResolverFor(config);
      const abort = new AbortController();
      const stop = (): void => abort.abort(new Error('stopping on signal'));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      for (;;) {
        const watch = await loadWatchList(config);
        const logs = await selectLogs(config, ctx.logger);
        const progress = makeProgress('catch-up', ctx.logger);
        const result = await runCycle(
          {
            store,
            notifiers,
            scanInventory: config.inventory.length > 0 ? () => scanInventory(config.inventory) : null,
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
          const timer = setTimeout(resolve, config.intervalSeconds * 1000);
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
