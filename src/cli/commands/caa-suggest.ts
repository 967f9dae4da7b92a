/**
 * @module cli/commands/caa-suggest
 * `certvigil caa suggest DOMAIN [--acme-dir DIR...] [--ca ISSUER --account-uri URI --method M ...]
 *  [--iodef URL] [--format zone|generic|octodns|terraform] [--json]`: the CAA RRset that binds
 * issuance for DOMAIN to exactly the ACME accounts (and validation methods) in use, proven with the
 * engine over an in-memory resolver. Exit 0 when the proof holds, 2 otherwise.
 *
 * `certvigil caa evaluate --zone FILE NAME... --ca ISSUER [--account-uri URI] [--method M] [--json]`:
 * `caa check` offline, over the records of a zone file. Same output and exit codes as `caa check`.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { evaluateCaaMany, presentRecord } from '../../caa/index.js';
import { formatProof, formatRecords, proveRecords, suggestRecords } from '../../caa/suggest/index.js';
import type { SuggestAccount, SuggestFormat } from '../../caa/suggest/index.js';
import { ZoneParseError, ZoneResolver, parseZone } from '../../caa/zonefile.js';
import { CertvigilError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { collect } from '../flags.js';
import { findAccounts } from './acme.js';
import { exitCodeFor, formatHuman } from './caa-check.js';

interface SuggestFlags {
  acmeDir?: string[];
  ca?: string[];
  accountUri?: string[];
  method?: string[];
  iodef?: string;
  format: string;
  json?: boolean;
}

const FORMATS: readonly SuggestFormat[] = ['zone', 'generic', 'octodns', 'terraform'];
const split = (xs: string[] | undefined): string[] =>
  (xs ?? [])
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);

/** True when `name` (maybe `*.`) is DOMAIN or below it. */
function within(name: string, domain: string): boolean {
  const n = name.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  return n === domain || n.endsWith(`.${domain}`);
}

export function registerCaaSuggest(
  caa: Command,
  ctx: { logger: Logger; setExit(code: ExitCode): void },
): void {
  caa
    .command('suggest')
    .summary('suggest CAA records that bind issuance to your ACME accounts, and prove them')
    .description(
      'Build the CAA RRset for DOMAIN that lets exactly the ACME accounts in use (found with --acme-dir, or given\n' +
        'with --ca/--account-uri/--method) issue, with their validation methods (RFC 8657), issuewild ";" unless\n' +
        'wildcards are used, and iodef if --iodef is given. The RRset is then evaluated by the CAA engine in\n' +
        'memory: owner accounts and methods must be allowed; other accounts, methods, no account and other CAs denied.\n\n' +
        'Formats: zone (RFC 8659 §4.1.1 presentation), generic (RFC 3597 \\# hex), octodns (octoDNS YAML),\n' +
        'terraform (aws_route53_record).\n\n' +
        'Exit status: 0 the proof holds, 2 it does not or usage error.',
    )
    .argument('<domain>', 'the domain whose CAA RRset to suggest, e.g. example.com')
    .option('--acme-dir <path>', 'ACME client state to discover accounts from (repeatable)', collect)
    .option(
      '--ca <issuer-domain>',
      'CAA issuer domain for --account-uri, or for discovered accounts of an unknown CA',
      collect,
    )
    .option('--account-uri <uri>', 'ACME account URL to allow (repeatable)', collect)
    .option(
      '--method <method>',
      'validation method to allow (repeatable; default: what the client uses)',
      collect,
    )
    .option('--iodef <url>', 'add an iodef record (mailto: or https: URL)')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'zone')
    .option('--json', 'print one JSON object with accounts, records, all formats and the proof')
    .action(async (domainArg: string, flags: SuggestFlags) => {
      const domain = domainArg.toLowerCase().replace(/\.$/, '');
      if (!FORMATS.includes(flags.format as SuggestFormat))
        throw new CertvigilError('USAGE', `--format must be one of ${FORMATS.join(', ')}`);
      const cas = split(flags.ca).map((c) => c.toLowerCase());
      const methods = split(flags.method);
      const uris = flags.accountUri ?? [];
      const accounts: SuggestAccount[] = [];
      if (uris.length > 0) {
        if (cas.length !== 1 && cas.length !== uris.length)
          throw new CertvigilError('USAGE', '--account-uri needs one --ca, or one --ca per --account-uri');
        uris.forEach((uri, i) =>
          accounts.push({ issuer: (cas.length === 1 ? cas[0] : cas[i]) as string, accountUri: uri, methods }),
        );
      }
      if ((flags.acmeDir?.length ?? 0) > 0 || uris.length === 0) {
        const found = await findAccounts(flags.acmeDir, cas.length === 1 ? cas[0] : undefined);
        for (const a of found) {
          if (a.names.length > 0 && !a.names.some((n) => within(n, domain))) continue;
          if (!a.caIssuer) {
            process.stderr.write(
              `certvigil: skipping ${a.client} account ${a.accountUri}: CA ${a.caDirectory ?? 'unknown'} has no known CAA issuer domain (use --ca)\n`,
            );
            continue;
          }
          accounts.push({
            issuer: a.caIssuer,
            accountUri: a.accountUri,
            methods: methods.length > 0 ? methods : a.challengeTypes,
            wildcard: a.names.some((n) => n.startsWith('*.') && within(n, domain)),
          });
        }
      }
      if (accounts.length === 0)
        throw new CertvigilError(
          'USAGE',
          `no ACME account for ${domain}: give --acme-dir, or --ca with --account-uri`,
        );
      const records = suggestRecords(accounts, { iodef: flags.iodef });
      const proof = await proveRecords(domain, accounts, records);
      ctx.logger.info({ domain, records: records.length, holds: proof.holds }, 'CAA suggestion');
      if (flags.json) {
        const out = {
          domain,
          accounts,
          records: records.map((r) => ({ ...r, text: presentRecord(r) })),
          formats: Object.fromEntries(FORMATS.map((f) => [f, formatRecords(f, domain, records)])),
          proof,
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        process.stdout.write(formatRecords(flags.format as SuggestFormat, domain, records));
        process.stdout.write(`\nproof (CAA engine over exactly these records at ${domain}):\n`);
        process.stdout.write(formatProof(proof.rows));
        process.stdout.write(proof.holds ? 'proof holds\n' : 'PROOF FAILS\n');
      }
      ctx.setExit(proof.holds ? EXIT.OK : EXIT.ERROR);
    });

  caa
    .command('evaluate')
    .summary('decide CAA offline, over the records of a zone file')
    .description(
      'Like "caa check", but the records come from a BIND-style zone file (CAA, CNAME, DNAME; $ORIGIN, $TTL,\n' +
        'RFC 3597 generic CAA) served by an in-memory resolver: names absent from the file are NXDOMAIN.\n\n' +
        'Exit status: 0 every name allowed, 1 any name denied, 2 any error or usage error.',
    )
    .argument('<names...>', 'domain names to check')
    .requiredOption('--zone <file>', 'zone file with the CAA records')
    .option('--origin <name>', 'initial $ORIGIN for the zone file')
    .requiredOption('--ca <issuer-domain>', "the CA's issuer domain name (repeatable)", collect)
    .option('--account-uri <uri>', 'ACME account URL making the request')
    .option('--method <method>', 'ACME validation method used')
    .option('--json', 'print one JSON object per name, one per line')
    .action(
      async (
        names: string[],
        flags: {
          zone: string;
          origin?: string;
          ca: string[];
          accountUri?: string;
          method?: string;
          json?: boolean;
        },
      ) => {
        const issuerDomains = split(flags.ca);
        if (issuerDomains.length === 0) throw new CertvigilError('USAGE', '--ca needs an issuer domain name');
        let text: string;
        try {
          text = await readFile(flags.zone, 'utf8');
        } catch (err) {
          throw new CertvigilError('USAGE', `cannot read ${flags.zone}: ${(err as Error).message}`);
        }
        let resolver: ZoneResolver;
        try {
          resolver = new ZoneResolver(parseZone(text, { origin: flags.origin }));
        } catch (err) {
          if (err instanceof ZoneParseError)
            throw new CertvigilError('USAGE', `${flags.zone}: ${err.message}`);
          throw err;
        }
        const results = await evaluateCaaMany(
          names,
          { issuerDomains, accountUri: flags.accountUri ?? null, validationMethod: flags.method ?? null },
          resolver,
        );
        for (const r of results)
          process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `${formatHuman(r)}\n`);
        ctx.setExit(exitCodeFor(results));
      },
    );
}
