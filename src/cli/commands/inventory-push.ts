/**
 * @module cli/commands/inventory-push
 * `certvigil inventory push` — send what this host's ACME clients hold (hashes and names, never a
 * key or a certificate) to the central certvigil server, which then counts those certificates as
 * known and can answer this host's `check internal`.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import type { InventoryScan } from '../../inventory/index.js';
import { sanitizeDeep, sanitizeText } from '../../sanitize.js';
// eslint-disable-next-line certvigil/no-deep-imports -- the one validation rule shared with the server; server/index.ts would load hono
import { canonicalHost, isPushableName, MAX_HOST_ITEMS } from '../../server/api/hosts-input.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { collect, writeLine } from '../flags.js';
import type { Logger } from '../logger.js';
import { loadConfig, scanConfiguredInventory } from '../monitor-setup.js';
import { addServerOptions, apiError, apiRequest, serverTarget, timeoutMs } from '../server-request.js';
import type { ServerFlags } from '../server-request.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface PushFlags extends ServerFlags {
  config?: string;
  inventory?: string[];
  host?: string;
  timeout: string;
  json?: boolean;
}

export interface PushItem {
  certSha256: string;
  tbsSha256: string;
  spkiSha256: string;
  dnsNames: string[];
  notAfter: string;
}

/**
 * The push body's items from a scan (pure): one per certificate, names in lower case; a name the
 * server would refuse (not a DNS name) is left out and reported, a certificate left with no name
 * is not pushed (nothing to check it against).
 */
export function pushItems(scan: InventoryScan): { items: PushItem[]; dropped: string[] } {
  const dropped: string[] = [];
  const items: PushItem[] = [];
  const seen = new Set<string>();
  for (const c of scan.certificates) {
    if (seen.has(c.certSha256)) continue;
    seen.add(c.certSha256);
    const names = [...new Set(c.dnsNames.map((n) => n.toLowerCase()))];
    const ok = names.filter(isPushableName);
    for (const n of names) if (!isPushableName(n)) dropped.push(`${c.path}: name ${JSON.stringify(n)}`);
    if (ok.length === 0) {
      dropped.push(`${c.path}: no DNS name`);
      continue;
    }
    items.push({
      certSha256: c.certSha256,
      tbsSha256: c.tbsSha256,
      spkiSha256: c.spkiSha256,
      dnsNames: ok,
      notAfter: new Date(c.notAfter).toISOString(),
    });
  }
  return { items, dropped };
}

export function registerInventoryPush(inventory: Command, ctx: Ctx): void {
  addServerOptions(
    inventory
      .command('push')
      .summary("send this host's inventory (hashes and names) to the certvigil server")
      .description(
        "Scan this host's ACME client storage (as `inventory scan`) and replace this host's inventory on the\n" +
          'certvigil server (PUT /api/v1/hosts/HOST/inventory): per certificate its SHA-256, TBS and SPKI hashes,\n' +
          'DNS names and expiry; never a key or a certificate. The server counts them as known and answers\n' +
          '`certvigil check internal` for this host. Nothing is written locally.\n\n' +
          'The token: a viewer token named like the host (`token create --role viewer --name HOST`) may push\n' +
          'only for that host; an admin token for any host.',
      ),
  )
    .option('--config <file>', 'YAML configuration file (its `inventory:` paths)')
    .option(
      '--inventory <dir>',
      'ACME client storage or PEM folder (repeatable; default: the config)',
      collect,
    )
    .option('--host <name>', "push as this host (default: this machine's hostname)")
    .option('--timeout <duration>', 'give up on the server after this long (bare number: seconds)', '30s')
    .option('--json', "print the server's answer as one JSON object")
    .addHelpText(
      'after',
      '\nExit status: 0 pushed (the count is printed), 1 pushed, but some files could not be read or parsed\n' +
        '(listed on stderr; their certificates are missing from the push), 2 usage error or bad input (no or\n' +
        'unreadable inventory, bad --server, no token), or the server could not be reached or refused the push\n' +
        '(401 token unknown, 403 not allowed for this host, 413 too large): nothing pushed.',
    )
    .action(async (flags: PushFlags) => {
      // Every flag is checked before the scan and before the server is asked.
      const target = await serverTarget(flags);
      const timeout = timeoutMs(flags.timeout, '--timeout');
      const host = canonicalHost((flags.host ?? hostname()).trim());
      if (host === null)
        throw new CertvigilError(
          'USAGE',
          `${flags.host !== undefined ? '--host' : "this machine's hostname"} ${JSON.stringify(sanitizeText(flags.host ?? hostname(), { maxLength: 80 }))} is not a host name (letters, digits, . _ -; give --host)`,
        );
      const config = await loadConfig({ config: flags.config, inventory: flags.inventory });
      const scan = await scanConfiguredInventory(config, ctx.logger);
      const { items, dropped } = pushItems(scan);
      if (items.length > MAX_HOST_ITEMS)
        throw new CertvigilError(
          'USAGE',
          `${items.length} certificates: the server takes at most ${MAX_HOST_ITEMS} per host`,
        );
      for (const d of dropped) process.stderr.write(`not pushed: ${sanitizeText(d)}\n`);
      for (const e of scan.errors)
        process.stderr.write(`unreadable: ${sanitizeText(`${e.path}: ${e.error}`)}\n`);

      const answer = await apiRequest(
        target,
        'PUT',
        `api/v1/hosts/${encodeURIComponent(host)}/inventory`,
        { host, items },
        timeout,
      );
      if (answer.status !== 200) throw new CertvigilError('API_REFUSED', `push refused: ${apiError(answer)}`);
      if (flags.json) await writeLine(JSON.stringify(sanitizeDeep(answer.body)));
      else await writeLine(sanitizeText(`pushed ${items.length} certificates for host ${host}`));
      ctx.setExit(scan.errors.length > 0 ? EXIT.FINDING : EXIT.OK);
    });
}
