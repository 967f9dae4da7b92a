/**
 * @module cli/commands/acme
 * `certvigil acme accounts [--acme-dir DIR...] [--ca ISSUER] [--json]`: the ACME accounts found in
 * the clients' storage (certbot, dehydrated, acme.sh, lego, Caddy, Traefik acme.json, cert-manager
 * Issuer YAML), with each account's CA and, where the client records them, names and challenges.
 *
 * Exit status: 0 accounts found, 1 none found, 2 usage error.
 */
import type { Command } from 'commander';
import { defaultAcmeDirs, discoverAccounts } from '../../acme/index.js';
import type { AcmeAccount } from '../../acme/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { collect } from '../flags.js';

interface AccountsFlags {
  acmeDir?: string[];
  ca?: string;
  json?: boolean;
}

/** Discovered accounts, the CA issuer filled from `--ca` where the directory URL is not known. */
export async function findAccounts(
  dirs: string[] | undefined,
  ca: string | undefined,
): Promise<AcmeAccount[]> {
  const accounts = await discoverAccounts(dirs && dirs.length > 0 ? dirs : defaultAcmeDirs());
  return accounts.map((a) => ({ ...a, caIssuer: a.caIssuer ?? ca?.toLowerCase() ?? null }));
}

export function formatAccount(a: AcmeAccount): string {
  return [
    `${a.client}: ${a.accountUri}`,
    `  CA directory: ${a.caDirectory ?? 'unknown'}; CAA issuer: ${a.caIssuer ?? 'unknown (use --ca)'}`,
    `  names: ${a.names.length > 0 ? a.names.join(', ') : '(not recorded)'}`,
    `  challenges: ${a.challengeTypes.length > 0 ? a.challengeTypes.join(', ') : '(not recorded)'}`,
    `  from: ${a.path}`,
  ].join('\n');
}

export function registerAcme(program: Command, ctx: { logger: Logger; setExit(code: ExitCode): void }): void {
  const acme = program.command('acme').description('ACME clients on this machine: accounts, CAs, challenges');
  acme
    .command('accounts')
    .summary('list ACME accounts found in ACME client storage')
    .description(
      'Find ACME account URLs and their CA in certbot, dehydrated, acme.sh, lego and Caddy state directories,\n' +
        'Traefik acme.json files and exported cert-manager Issuer/ClusterIssuer YAML.\n' +
        'Without --acme-dir the usual locations (/etc/letsencrypt, ~/.acme.sh, …) are searched.\n\n' +
        'Exit status: 0 accounts found, 1 none found, 2 usage error.',
    )
    .option('--acme-dir <path>', 'client state directory, acme.json or Issuer YAML (repeatable)', collect)
    .option('--ca <issuer-domain>', 'CAA issuer domain to assume where the CA is not known (e.g. a test CA)')
    .option('--json', 'print one JSON object per account, one per line')
    .action(async (flags: AccountsFlags) => {
      const accounts = await findAccounts(flags.acmeDir, flags.ca);
      ctx.logger.debug({ count: accounts.length }, 'ACME accounts discovered');
      for (const a of accounts)
        process.stdout.write(flags.json ? `${JSON.stringify(a)}\n` : `${formatAccount(a)}\n`);
      if (accounts.length === 0 && !flags.json) process.stdout.write('no ACME accounts found\n');
      ctx.setExit(accounts.length > 0 ? EXIT.OK : EXIT.FINDING);
    });
}
