/**
 * @module cli/commands/acme
 * `certvigil acme accounts [--acme-dir DIR...] [--ca ISSUER] [--json]`: the ACME accounts found in
 * the clients' storage (certbot, dehydrated, acme.sh, lego, Caddy, Traefik acme.json, cert-manager
 * Issuer YAML), with each account's CA and, where the client records them, names and challenges.
 *
 * Exit status: 0 accounts found, 1 none found, 2 usage error (including an --acme-dir that does not
 * exist or cannot be read: "no accounts" must mean the client state was read and holds none).
 */
import { access, constants, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { defaultAcmeDirs, discoverAccounts } from '../../acme/index.js';
import type { AcmeAccount } from '../../acme/index.js';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { parseIssuerDomain, shown } from '../caa-options.js';
import { jsonLine } from '../json-line.js';
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

/**
 * Paths given with --acme-dir must exist and be readable directories or files. (The default
 * locations may be missing: most machines run one client at most.)
 */
export async function assertAcmePaths(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    if (p.trim() === '') throw new CertvigilError('USAGE', '--acme-dir needs a path');
    try {
      const st = await stat(p);
      if (!st.isDirectory() && !st.isFile())
        throw new CertvigilError('USAGE', `--acme-dir ${shown(p)} is neither a directory nor a file`);
      // The only single files the discovery reads; any other file would silently yield "no accounts".
      if (st.isFile() && !/(?:\.json|\.ya?ml)$/i.test(p))
        throw new CertvigilError(
          'USAGE',
          `--acme-dir ${shown(p)} is a file, but only a client state directory, a Traefik acme.json or cert-manager Issuer YAML is read`,
        );
      await access(p, constants.R_OK | (st.isDirectory() ? constants.X_OK : 0));
    } catch (err) {
      if (err instanceof CertvigilError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file or directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? 'error');
      throw new CertvigilError('USAGE', `--acme-dir ${shown(p)}: ${why}`);
    }
  }
}

/** Human form; every field comes from client files on disk, so it is sanitised for the terminal. */
export function formatAccount(a: AcmeAccount): string {
  return sanitizeText(
    [
      `${a.client}: ${a.accountUri}`,
      `  CA directory: ${a.caDirectory ?? 'unknown'}; CAA issuer: ${a.caIssuer ?? 'unknown (use --ca)'}`,
      `  names: ${a.names.length > 0 ? a.names.join(', ') : '(not recorded)'}`,
      `  challenges: ${a.challengeTypes.length > 0 ? a.challengeTypes.join(', ') : '(not recorded)'}`,
      `  from: ${a.path}`,
    ].join('\n'),
    { keepNewlines: true },
  );
}

export function registerAcme(program: Command, ctx: { logger: Logger; setExit(code: ExitCode): void }): void {
  const acme = program
    .command('acme')
    .description('ACME clients on this machine: accounts, CAs, challenges')
    .addHelpText(
      'after',
      '\nExit status: see "certvigil acme accounts --help" (0 found, 1 none, 2 usage error).\n',
    );
  acme
    .command('accounts')
    .summary('list ACME accounts found in ACME client storage')
    .description(
      'Find ACME account URLs and their CA in certbot, dehydrated, acme.sh, lego and Caddy state directories,\n' +
        'Traefik acme.json files and exported cert-manager Issuer/ClusterIssuer YAML.\n' +
        'Without --acme-dir the usual locations (/etc/letsencrypt, ~/.acme.sh, …) are searched (missing ones\n' +
        'are skipped); a path given with --acme-dir must exist and be readable.',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 accounts found, 1 none found in readable client state, 2 usage error (an --acme-dir\n' +
        'that does not exist or cannot be read, a bad --ca; one line on stderr).\n',
    )
    .option('--acme-dir <path>', 'client state directory, acme.json or Issuer YAML (repeatable)', collect)
    .option('--ca <issuer-domain>', 'CAA issuer domain to assume where the CA is not known (e.g. a test CA)')
    .option('--json', 'print one JSON object per account, one per line')
    .action(async (flags: AccountsFlags) => {
      const ca = flags.ca === undefined ? undefined : parseIssuerDomain(flags.ca);
      if (flags.acmeDir !== undefined) await assertAcmePaths(flags.acmeDir);
      const accounts = await findAccounts(flags.acmeDir, ca);
      ctx.logger.debug({ count: accounts.length }, 'ACME accounts discovered');
      for (const a of accounts)
        process.stdout.write(flags.json ? `${jsonLine(a)}\n` : `${formatAccount(a)}\n`);
      if (accounts.length === 0 && !flags.json) process.stdout.write('no ACME accounts found\n');
      ctx.setExit(accounts.length > 0 ? EXIT.OK : EXIT.FINDING);
    });
}
