/**
 * @module cli/commands/check-monitor
 * `certvigil check monitor` — the monitor's own health as a Nagios/Icinga plugin. The state is read
 * by health's `readHealthReport` (the one read `certvigil status` shares). The verdict is the
 * pure `monitorVerdict` (health/verdict.ts); this file only reads the state (read-only: a plugin
 * run every few minutes never creates, migrates or locks it) and prints.
 */
import type { Command } from 'commander';
import {
  DEFAULT_LOG_LIST_MAX_AGE_S,
  DEFAULT_MAX_AGE_S,
  monitorVerdict,
  readHealthReport,
} from '../../health/index.js';
import type { ExitCode } from '../exit-codes.js';
import { parseDuration } from '../flags.js';
import type { Logger } from '../logger.js';
import { addStateOptions } from '../state-options.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { runVerdictPlugin } from '../plugin-run.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface CheckMonitorFlags extends MonitorFlags {
  maxAge: string;
  logListMaxAge: string;
  json?: boolean;
}

export function registerCheckMonitor(check: Command, ctx: Ctx): void {
  addStateOptions(
    check
      .command('monitor')
      .summary('is the CT monitor itself healthy? (Nagios/Icinga plugin)')
      .description(
        'Judge the state of `certvigil monitor` (read-only): every monitored log verified within --max-age, no\n' +
          'alert waiting undelivered longer than that, no log misbehaving.\n\n' +
          'A log counts as verified up to the later of (a) the timestamp of the last signed tree head whose root\n' +
          'matched the downloaded entries and (b) the last correct contact with the log at which that head was\n' +
          'already as large as the newest head the log showed (caught up).\n\n' +
          'CRITICAL: a log misbehaving or failing with an internal error; a log not verified within --max-age\n' +
          '(or never); an alert undelivered for longer than --max-age.\n' +
          'WARNING: a log unreachable but verified within --max-age; a pending alert whose last delivery failed;\n' +
          'a log list that could not be refreshed or is older than --log-list-max-age; inventory scan errors.\n\n' +
          'Output: "CERTVIGIL STATUS - text | perfdata" and one line per finding, or --json (one object).\n' +
          'Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no certvigil state at the state directory or\n' +
          'database, no log monitored yet, or a usage error: one "CERTVIGIL UNKNOWN - …" line).',
      ),
  )
    .option(
      '--max-age <seconds>',
      "limit on how old a log's verified view and an undelivered alert may be (15s, 5m, 2h; bare number: seconds)",
      String(DEFAULT_MAX_AGE_S),
    )
    .option(
      '--log-list-max-age <seconds>',
      'WARNING when the log list is older (bare number: seconds)',
      String(DEFAULT_LOG_LIST_MAX_AGE_S),
    )
    .option('--json', 'one JSON object: status, summary, findings, perfdata and the full report')
    .action(async (flags: CheckMonitorFlags) =>
      runVerdictPlugin(ctx, flags.json, async () => {
        const maxAgeSeconds = Math.round(
          parseDuration(flags.maxAge, '--max-age', { unit: 's', minMs: 1000 }) / 1000,
        );
        const logListMaxAgeSeconds = Math.round(
          parseDuration(flags.logListMaxAge, '--log-list-max-age', { unit: 's', minMs: 1000 }) / 1000,
        );
        const report = await (
          await import('../monitor-setup.js')
        ).withStore(flags, (store) => readHealthReport(store, new Date()), {
          readOnly: true,
        });
        const verdict = monitorVerdict(report, { maxAgeSeconds, logListMaxAgeSeconds });
        return { verdict, extra: { report } };
      }),
    );
}
