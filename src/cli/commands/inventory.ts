/**
 * @module cli/commands/inventory
 * `certvigil inventory scan` — read the certificates your own ACME clients obtained into the state,
 * so that the monitor counts them as known.
 */
import type { Command } from 'commander';
import { recordInventory } from '../../monitor/index.js';
import { sanitizeDeep, sanitizeText } from '../../sanitize.js';
import { writeLine } from '../flags.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStateOptions, loadConfig, scanConfiguredInventory, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { registerInventoryPush } from './inventory-push.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

export function registerInventory(program: Command, ctx: Ctx): void {
  const inventory = program.command('inventory').description('certificates your own ACME clients obtained');
  addStateOptions(inventory.command('scan').summary('read ACME client storage into the inventory'))
    .option(
      '--inventory <dir>',
      'certbot/dehydrated/acme.sh/lego/Caddy/Traefik storage or PEM folders (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nWhy a file or certificate was not taken is logged with --log-level debug.\n' +
        'Exit status: 0 every file read, 1 some files could not be read or parsed (listed on stderr),\n' +
        '2 usage error: no inventory given, or an inventory path that is missing or unreadable (nothing is stored).',
    )
    .action(async (flags: MonitorFlags) => {
      const config = await loadConfig(flags);
      // A missing path is not an empty inventory: refused before the store is opened.
      const scan = await scanConfiguredInventory(config, ctx.logger);
      await withStore(flags, (store) => recordInventory(store, scan));
      if (flags.json) await writeLine(JSON.stringify(sanitizeDeep(scan)));
      else {
        for (const c of scan.certificates)
          await writeLine(
            sanitizeText(
              `${c.source} ${c.path} ${c.dnsNames.join(',')} ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)}`,
            ),
          );
        for (const e of scan.errors)
          process.stderr.write(`unreadable: ${sanitizeText(`${e.path}: ${e.error}`)}\n`);
        await writeLine(
          sanitizeText(
            `${scan.certificates.length} certificates; managed names: ${scan.managedNames.join(', ') || 'none'}`,
          ),
        );
      }
      ctx.setExit(scan.errors.length > 0 ? EXIT.FINDING : EXIT.OK);
    });
  registerInventoryPush(inventory, ctx);
}
