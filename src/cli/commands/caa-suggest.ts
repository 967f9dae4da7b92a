/**
 * @module cli/commands/caa-suggest
 * `certvigil caa suggest DOMAIN [--acme-dir DIR...] [--ca ISSUER --account-uri URI --method M ...]
 *  [--iodef URL] [--format zone|generic|octodns|terraform] [--json]`: the CAA RRset that binds
 * issuance for DOMAIN to exactly the ACME accounts (and validation methods) in use, proven with the
 * engine over an in-memory resolver. Exit 0 when the proof holds, 2 otherwise. Stdout holds only
 * the records in the chosen format (so `> caa.tf` is a valid file); the proof goes to stderr.
 */
import type { Command } from 'commander';
import { formatProof, formatRecords, presentRecord, proveRecords, suggestRecords } from '../../caa/index.js';
import type { SuggestAccount, SuggestFormat } from '../../caa/index.js';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import {
  parseAccountUri,
  parseDomain,
  parseIodefUrl,
  parseIssuerDomain,
  parseValidationMethod,
  parseValidationMethods,
  shown,
} from '../caa-options.js';
import { jsonLine } from '../json-line.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { collect } from '../flags.js';
import { assertAcmePaths, findAccounts } from './acme.js';

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
  (xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim());

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
        'Stdout holds only the records in the chosen format (e.g. --format terraform > caa.tf); the proof goes to\n' +
        'stderr. With --json, one JSON object on stdout (accounts, records, every format and the proof).\n' +
        'Formats: zone (RFC 8659 §4.1.1 presentation), generic (RFC 3597 \\# hex), octodns (octoDNS YAML),\n' +
        'terraform (aws_route53_record).\n' +
        '--iodef must be a mailto: or https: URL, checked as "caa audit" checks published iodef records.',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 the proof holds (records on stdout), 2 the proof fails (nothing on stdout; records and\n' +
        'proof on stderr), no account found, or a usage error (bad name or flag, missing --acme-dir; one line\n' +
        'on stderr, nothing written).\n',
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
      // Every flag is checked before any file is read: exit 2, one line, nothing written.
      const domain = parseDomain(domainArg);
      if (!FORMATS.includes(flags.format as SuggestFormat))
        throw new CertvigilError(
          'USAGE',
          `--format must be one of ${FORMATS.join(', ')} (got ${shown(flags.format)})`,
        );
      const cas = [...new Set(split(flags.ca).map((c) => parseIssuerDomain(c)))];
      const methods = parseValidationMethods(flags.method);
      const uris = (flags.accountUri ?? []).map((u) => parseAccountUri(u));
      const iodef = flags.iodef === undefined ? undefined : parseIodefUrl(flags.iodef);
      if (flags.acmeDir !== undefined) await assertAcmePaths(flags.acmeDir);
      const accounts: SuggestAccount[] = [];
      if (uris.length > 0) {
        if (cas.length !== 1 && cas.length !== uris.length)
          throw new CertvigilError('USAGE', '--account-uri needs one --ca, or one --ca per --account-uri');
        uris.forEach((uri, i) =>
          accounts.push({ issuer: (cas.length === 1 ? cas[0] : cas[i]) as string, accountUri: uri, methods }),
        );
      }
      const warn = (text: string): void => {
        process.stderr.write(`certvigil: ${sanitizeText(text, { maxLength: 400 })}\n`);
      };
      if ((flags.acmeDir?.length ?? 0) > 0 || uris.length === 0) {
        const found = await findAccounts(flags.acmeDir, cas.length === 1 ? cas[0] : undefined);
        for (const a of found) {
          if (a.names.length > 0 && !a.names.some((n) => within(n, domain))) continue;
          if (!a.caIssuer) {
            warn(
              `skipping ${a.client} account ${a.accountUri}: CA ${a.caDirectory ?? 'unknown'} has no known CAA issuer domain (use --ca)`,
            );
            continue;
          }
          // Client files are outside data: an account URL that cannot be an accounturi value (RFC
          // 8659 §4.2) would make a malformed record, which authorises nobody.
          try {
            parseAccountUri(a.accountUri);
          } catch {
            warn(
              `skipping ${a.client} account from ${a.path}: its account URL is not an https URL usable in CAA`,
            );
            continue;
          }
          const used = methods.length > 0 ? methods : a.challengeTypes;
          const known = used.filter((m) => {
            try {
              parseValidationMethod(m);
              return true;
            } catch {
              return false;
            }
          });
          if (known.length !== used.length) {
            // Dropping an unknown method could widen the record to "any method": skip the account.
            warn(
              `skipping ${a.client} account ${a.accountUri}: unknown challenge type(s) ${used.filter((m) => !known.includes(m)).join(', ')} (use --method)`,
            );
            continue;
          }
          accounts.push({
            issuer: a.caIssuer,
            accountUri: a.accountUri,
            methods: known,
            wildcard: a.names.some((n) => n.startsWith('*.') && within(n, domain)),
          });
        }
      }
      if (accounts.length === 0)
        throw new CertvigilError(
          'USAGE',
          `no ACME account for ${domain}: give --acme-dir, or --ca with --account-uri`,
        );
      const records = suggestRecords(accounts, { iodef });
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
        process.stdout.write(`${jsonLine(out)}\n`);
      } else {
        const rendered = formatRecords(flags.format as SuggestFormat, domain, records);
        // Stdout gets the records only, and only when they are proven: a failed proof must not leave
        // a plausible caa.tf behind. The proof is for the person, on stderr.
        if (proof.holds) process.stdout.write(sanitizeText(rendered, { keepNewlines: true }));
        else process.stderr.write(sanitizeText(rendered, { keepNewlines: true }));
        process.stderr.write(`proof (CAA engine over exactly these records at ${domain}):\n`);
        process.stderr.write(sanitizeText(formatProof(proof.rows), { keepNewlines: true }));
        process.stderr.write(proof.holds ? 'proof holds\n' : 'PROOF FAILS: no records written to stdout\n');
      }
      ctx.setExit(proof.holds ? EXIT.OK : EXIT.ERROR);
    });
}
