/**
 * @module cli/commands/caa-check
 * `certvigil caa check NAME... --ca ISSUER_DOMAIN [--account-uri URI] [--method METHOD]
 *  [--resolver HOST:PORT] [--json]`
 *
 * Exit status: 0 every name allowed, 1 any denied, 2 any error (an error wins over a denial:
 * "could not check" must never read as a mere "no").
 */
import type { Command } from 'commander';
import { evaluateCaaMany } from '../../caa/index.js';
import type { CaaResult } from '../../caa/index.js';
import { CertvigilError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { resolverFromFlags } from '../resolver-options.js';
import { collect } from '../flags.js';
import type { ResolverFlags } from '../resolver-options.js';
import { makeStyle } from '../style.js';

interface CaaCheckFlags extends ResolverFlags {
  ca: string[];
  accountUri?: string;
  method?: string;
  json?: boolean;
}

export function exitCodeFor(results: readonly CaaResult[]): ExitCode {
  if (results.some((r) => r.decision === 'error')) return EXIT.ERROR;
  if (results.some((r) => r.decision === 'deny')) return EXIT.FINDING;
  return EXIT.OK;
}

export function formatHuman(result: CaaResult, style = makeStyle(process.stdout)): string {
  const label =
    result.decision === 'allow'
      ? style.green('ALLOW')
      : result.decision === 'deny'
        ? style.red('DENY ')
        : style.yellow('ERROR');
  const dnssec = result.dnssec === 'secure' ? 'DNSSEC: secure' : `DNSSEC: ${result.dnssec}`;
  return `${label} ${style.bold(result.name)}: ${result.explanation} ${style.dim(`[${result.reason}; ${dnssec}]`)}`;
}

export function registerCaaCheck(caa: Command, ctx: { logger: Logger; setExit(code: ExitCode): void }): void {
  caa
    .command('check')
    .summary('decide whether a CA may issue for names, as the CA must (RFC 8659, RFC 8657)')
    .description(
      'Evaluate CAA for each NAME as the CA named by --ca would: find the relevant record set (RFC 8659 §3),\n' +
        'apply issue/issuewild, accounturi and validationmethods, and fail closed on lookup errors.\n' +
        'A NAME starting with "*." is a wildcard request; Unicode names are converted to A-labels.\n\n' +
        'Exit status: 0 every name allowed, 1 any name denied, 2 any lookup error or usage error.',
    )
    .argument('<names...>', 'domain names to check (e.g. www.example.com, *.example.com)')
    .requiredOption(
      '--ca <issuer-domain>',
      "the CA's issuer domain name (repeatable), e.g. letsencrypt.org",
      collect,
    )
    .option('--account-uri <uri>', 'ACME account URL making the request (RFC 8657 accounturi)')
    .option('--method <method>', 'ACME validation method used, e.g. http-01, dns-01, tls-alpn-01')
    .option(
      '--resolver <host:port>',
      'recursive resolver to ask (repeatable; default: /etc/resolv.conf)',
      collect,
    )
    .option('--timeout <ms>', 'per-query timeout in milliseconds', '3000')
    .option('--attempts <n>', 'rounds over the resolver list before giving up', '2')
    .option('--json', 'print one JSON object per name, one per line')
    .action(async (names: string[], flags: CaaCheckFlags) => {
      const issuerDomains = flags.ca
        .flatMap((c) => c.split(','))
        .map((c) => c.trim())
        .filter(Boolean);
      if (issuerDomains.length === 0) throw new CertvigilError('USAGE', '--ca needs an issuer domain name');
      const resolver = await resolverFromFlags(flags);
      ctx.logger.debug({ servers: resolver.servers, names }, 'evaluating CAA');
      const results = await evaluateCaaMany(
        names,
        { issuerDomains, accountUri: flags.accountUri ?? null, validationMethod: flags.method ?? null },
        resolver,
      );
      for (const r of results) {
        ctx.logger.info(
          { name: r.name, decision: r.decision, reason: r.reason, lookups: r.lookups },
          'CAA decision',
        );
        process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `${formatHuman(r)}\n`);
      }
      ctx.setExit(exitCodeFor(results));
    });
}
