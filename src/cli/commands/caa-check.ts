/**
 * @module cli/commands/caa-check
 * `certvigil caa check NAME... --ca ISSUER_DOMAIN [--account-uri URI] [--method METHOD]
 *  [--resolver HOST:PORT] [--json]`
 *
 * Exit status: 0 every name allowed, 1 any denied, 2 any error (an error wins over a denial:
 * "could not check" must never read as a mere "no") or usage error.
 */
import type { Command } from 'commander';
import { evaluateCaaMany } from '../../caa/index.js';
import type { CaaResult } from '../../caa/index.js';
import { sanitizeText } from '../../sanitize.js';
import { parseAccountUri, parseIssuerDomains, parseNames, parseValidationMethod } from '../caa-options.js';
import { jsonLine } from '../json-line.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { resolverFromFlags } from '../resolver-options.js';
import { collect } from '../flags.js';
import type { ResolverFlags } from '../resolver-options.js';
import { makeStyle } from '../style.js';

interface CaaCheckFlags extends ResolverFlags {
  ca?: string[];
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
  // The explanation quotes DNS answers (issuer names, EDE texts): never let them reach the terminal raw.
  return `${label} ${style.bold(sanitizeText(result.name))}: ${sanitizeText(result.explanation)} ${style.dim(`[${result.reason}; ${dnssec}]`)}`;
}

/** The `caa check`/`caa evaluate` request flags, validated (exit 2 on the first bad one). */
export function caaRequestFromFlags(flags: { ca?: string[]; accountUri?: string; method?: string }): {
  issuerDomains: string[];
  accountUri: string | null;
  validationMethod: string | null;
} {
  return {
    issuerDomains: parseIssuerDomains(flags.ca),
    accountUri: flags.accountUri === undefined ? null : parseAccountUri(flags.accountUri),
    validationMethod: flags.method === undefined ? null : parseValidationMethod(flags.method),
  };
}

export const CHECK_EXIT_HELP =
  '\nExit status: 0 every name allowed, 1 any name denied, 2 any lookup error (an error wins over a\n' +
  'denial: "could not check" must never read as a mere "no") or a usage error (bad name or flag; one\n' +
  'line on stderr, nothing else done).\n';

export function registerCaaCheck(caa: Command, ctx: { logger: Logger; setExit(code: ExitCode): void }): void {
  // The `caa` group itself (registered by main.ts) gets its exit statuses here, with its first child.
  caa.addHelpText(
    'after',
    '\nExit status: each subcommand documents its own (see "certvigil caa COMMAND --help"); in short,\n' +
      '0 fine, 1 a finding (denied name, weak policy), 2 an error (lookup failure, bad input, usage error).\n',
  );
  caa
    .command('check')
    .summary('decide whether a CA may issue for names, as the CA must (RFC 8659, RFC 8657)')
    .description(
      'Evaluate CAA for each NAME as the CA named by --ca would: find the relevant record set (RFC 8659 §3),\n' +
        'apply issue/issuewild, accounturi and validationmethods, and fail closed on lookup errors.\n' +
        'A NAME starting with "*." is a wildcard request; Unicode names are converted to A-labels.\n' +
        '--ca must be an issuer domain name (RFC 8659 §4.2), --method a registered ACME validation method\n' +
        '(http-01, dns-01, tls-alpn-01, email-reply-00, tkauth-01, onion-csr-01) or ca-NAME (RFC 8657 §4),\n' +
        '--account-uri an https URL.',
    )
    .addHelpText('after', CHECK_EXIT_HELP)
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
    .option(
      '--timeout <duration>',
      'per-query timeout: 500ms, 3s, or a number of milliseconds (10ms-60s)',
      '3000',
    )
    .option('--attempts <n>', 'rounds over the resolver list before giving up (1-10)', '2')
    .option('--json', 'print one JSON object per name, one per line')
    .action(async (names: string[], flags: CaaCheckFlags) => {
      // Everything is validated before the first query: a typo must not cost a lookup timeout.
      parseNames(names, { allowWildcard: true });
      const request = caaRequestFromFlags(flags);
      const resolver = await resolverFromFlags(flags);
      ctx.logger.debug({ servers: resolver.servers, names }, 'evaluating CAA');
      const results = await evaluateCaaMany(names, request, resolver);
      for (const r of results) {
        ctx.logger.info(
          { name: r.name, decision: r.decision, reason: r.reason, lookups: r.lookups },
          'CAA decision',
        );
        process.stdout.write(flags.json ? `${jsonLine(r)}\n` : `${formatHuman(r)}\n`);
      }
      ctx.setExit(exitCodeFor(results));
    });
}
