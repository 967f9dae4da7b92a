/**
 * @module cli/commands/notify
 * `certvigil notify test` — send a test alert through every configured sink.
 */
import type { Command } from 'commander';
import { deliverAll } from '../../notify/index.js';
import type { MonitorEvent } from '../../notify/index.js';
import { sanitizeText } from '../../sanitize.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStateOptions, loadConfig, notifiersFor } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

export function registerNotify(program: Command, ctx: Ctx): void {
  const notify = program.command('notify').description('alert sinks');
  addStateOptions(notify.command('test').summary('send a test alert through every configured sink'))
    .addHelpText(
      'after',
      '\nExit status: 0 every sink accepted the test alert, 2 a sink failed (named on stderr) or usage error\n' +
        '(bad config file).',
    )
    .action(async (flags: MonitorFlags) => {
      const config = await loadConfig(flags);
      const event: MonitorEvent = {
        type: 'test',
        severity: 'info',
        message: 'certvigil test alert: if you read this, alerts reach you.',
      };
      const results = await deliverAll(notifiersFor(config), event);
      for (const r of results)
        process.stderr.write(
          `${r.name}: ${r.ok ? 'ok' : `FAILED ${sanitizeText(r.error.message, { maxLength: 500 })}`}\n`,
        );
      ctx.setExit(results.every((r) => r.ok) ? EXIT.OK : EXIT.ERROR);
    });
}
