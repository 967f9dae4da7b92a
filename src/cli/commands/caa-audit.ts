/**
 * @module cli/commands/caa-audit
 * `certvigil caa audit DOMAIN... [--json] [--resolver HOST:PORT] [--ns-port N] [--timeout MS]
 *  [--acme-method METHOD] [--uses-wildcards] [--state-dir DIR]`
 *
 * Exit status by the worst finding: 0 none or info, 1 warning, 2 critical, an error finding
 * (lookup-failed, domain-not-found) or a usage error.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  buildReport,
  caaIdentifiersForIssuer,
  collectAudit,
  knownCaaIssuers,
  worstSeverity,
} from '../../caa/index.js';
import type { AuditReport } from '../../caa/index.js';
import { StubResolver } from '../../dns/index.js';
import { CertvigilError, errorMessage } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { openStore, SQLITE_FILE_NAME } from '../../store/index.js';
import { parseNames, parseValidationMethod, shown } from '../caa-options.js';
import { jsonLine } from '../json-line.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { describeResolver, parseResolverLimits, resolverFromFlags } from '../resolver-options.js';
import { collect, positiveInt } from '../flags.js';
import type { ResolverFlags } from '../resolver-options.js';
import { makeStyle } from '../style.js';

interface CaaAuditFlags extends ResolverFlags {
  json?: boolean;
  nsPort: string;
  acmeMethod?: string;
  usesWildcards?: boolean;
  stateDir?: string;
}

export function auditExitCode(reports: readonly AuditReport[], errors: number): ExitCode {
  const worst = reports.map((r) => worstSeverity(r.findings));
  if (errors > 0 || worst.includes('critical') || worst.includes('error')) return EXIT.ERROR;
  if (worst.includes('warning')) return EXIT.FINDING;
  return EXIT.OK;
}

export function formatAuditHuman(report: AuditReport, style = makeStyle(process.stdout)): string {
  const grade = report.grade === 'error' ? style.red('error (could not audit)') : style.bold(report.grade);
  const lines = [`${style.bold(sanitizeText(report.domain))}  grade ${grade}`];
  for (const f of report.findings) {
    const sev =
      f.severity === 'error'
        ? style.red('ERROR   ')
        : f.severity === 'critical'
          ? style.red('CRITICAL')
          : f.severity === 'warning'
            ? style.yellow('WARNING ')
            : style.dim('INFO    ');
    // Messages quote DNS data (name server names, record values, EDE texts): sanitise at the terminal.
    const fix = sanitizeText(f.fix, { keepNewlines: true }).replace(/\t/g, ' ');
    lines.push(
      `  ${sev} ${f.id.padEnd(20)} ${sanitizeText(f.name)}\n           ${sanitizeText(f.message)}\n           fix: ${fix.replace(/\n/g, '\n                ')}`,
    );
  }
  if (report.findings.length === 0) lines.push('  no findings');
  return lines.join('\n');
}

/**
 * `caa audit` only reads the monitor's store: a missing state directory or database is a usage
 * error, and nothing is created (opening a missing SQLite file would create it).
 */
function assertStateDir(stateDir: string): void {
  let isDir = false;
  try {
    isDir = statSync(stateDir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir || !existsSync(join(stateDir, SQLITE_FILE_NAME)))
    throw new CertvigilError(
      'USAGE',
      `no certvigil state at ${shown(stateDir)} (run \`certvigil monitor\` first, or leave out --state-dir)`,
    );
}

async function seenIssuers(stateDir: string, domain: string): Promise<string[]> {
  // Only reads the monitor's issuances: read-only, so the audit never writes to the monitor's state.
  const store = await openStore({ stateDir, readOnly: true });
  try {
    await store.migrate(); // read-only: checks the schema version, changes nothing
    const all = await store.listIssuances();
    const mine = all.filter((i) =>
      i.dnsNames.some((n) => {
        const bare = n.toLowerCase().replace(/^\*\./, '');
        return bare === domain || bare.endsWith(`.${domain}`);
      }),
    );
    return [...new Set(mine.flatMap((i) => caaIdentifiersForIssuer(i.issuer)))];
  } finally {
    await store.close();
  }
}

export const AUDIT_EXIT_HELP =
  '\nExit status: 0 no findings or info only, 1 worst finding is a warning, 2 any critical finding, any\n' +
  'error finding (lookup-failed, domain-not-found: grade "error") or a usage error (bad domain or flag;\n' +
  'one line on stderr, nothing asked).\n';

export function registerCaaAudit(caa: Command, ctx: { logger: Logger; setExit(code: ExitCode): void }): void {
  caa
    .command('audit')
    .summary("audit a domain's CAA setup as an owner: policy strength, name servers, DNSSEC")
    .description(
      "Audit the CAA setup of each DOMAIN from the owner's side: find its zone and name servers through the\n" +
        'resolver, ask every name server directly (also with a mixed-case name, RFC 4343 / RFC 8659 §6), check\n' +
        'DNSSEC, and grade the policy (RFC 8659, RFC 8657 accounturi/validationmethods).\n\n' +
        'Findings: lookup-failed, domain-not-found, no-caa, no-accounturi, no-validationmethods, http-01-allowed,\n' +
        'wildcard-open, no-iodef, iodef-bad-scheme, iodef-malformed, malformed-record, critical-unknown-tag,\n' +
        'ns-disagree, ns-timeout, ns-refused, ns-error, ns-no-address, ns-case-mishandled, dnssec-unsigned,\n' +
        'dnssec-bogus, cname-external, subdomain-weaker, unused-ca, unknown-issuer.\n' +
        'lookup-failed (error): a query to the resolver got no usable answer (timeout, network error, SERVFAIL,\n' +
        'REFUSED), naming the name, type and server, or no name server could be asked; CAs fail closed then.\n' +
        'domain-not-found (error): the resolver says DOMAIN does not exist (NXDOMAIN).\n' +
        'http-01-allowed: with --acme-method dns-01, reported (warning) when validationmethods is absent or\n' +
        'lists http-01; without it, reported (info) only when validationmethods explicitly lists http-01.\n' +
        'wildcard-open: reported unless issuewild ";" is present or --uses-wildcards is given.\n' +
        'unused-ca: needs the CT monitor store (--state-dir); skipped without it.\n\n' +
        'Grade: "error" any error finding; F any critical; D three or more warnings; C two; B one; A no\n' +
        'warnings (info only).\n' +
        'Time: each resolver query gives up after --timeout x --attempts per resolver address (default\n' +
        '3s x 2); when the zone cut cannot be looked up the audit of that domain stops there, so an\n' +
        'unreachable resolver costs one such wait per domain (none when the port is closed: refused at once).',
    )
    .addHelpText('after', AUDIT_EXIT_HELP)
    .argument('<domains...>', 'domain names to audit')
    .option('--json', 'print one JSON object per domain, one per line')
    .option(
      '--resolver <host:port>',
      'recursive resolver to ask (repeatable; default: /etc/resolv.conf)',
      collect,
    )
    .option('--ns-port <n>', 'port to query the authoritative name servers on', '53')
    .option(
      '--timeout <duration>',
      'per-query timeout: 500ms, 3s, or a number of milliseconds (10ms-60s); also for direct queries',
      '3000',
    )
    .option('--attempts <n>', 'rounds over the resolver list before giving up (1-10)', '2')
    .option('--acme-method <method>', 'ACME challenge type your client uses, e.g. dns-01')
    .option('--uses-wildcards', 'you use wildcard certificates (do not report wildcard-open)')
    .option(
      '--state-dir <dir>',
      'CT monitor state directory: compare allowed CAs with issuers seen (unused-ca)',
    )
    .action(async (domains: string[], flags: CaaAuditFlags) => {
      // Every input is checked before the first query (exit 2, one line, nothing asked).
      parseNames(domains);
      const nsPort = positiveInt(flags.nsPort, '--ns-port', 65535);
      const acmeMethod =
        flags.acmeMethod === undefined ? null : parseValidationMethod(flags.acmeMethod, '--acme-method');
      if (flags.stateDir !== undefined) assertStateDir(flags.stateDir);
      const { timeoutMs = 3000 } = parseResolverLimits(flags);
      const resolver = await resolverFromFlags(flags);
      const reports: AuditReport[] = [];
      let errors = 0;
      for (const domain of domains) {
        try {
          const data = await collectAudit(domain, {
            resolver,
            nsPort,
            timeoutMs,
            resolverLabel: describeResolver(resolver),
            // One attempt per authoritative server: the audit compares their answers, and a
            // silent one is a finding, not something to retry (RFC 8659 §3 fails closed anyway).
            directClient: (host, port, ms) =>
              new StubResolver({ servers: [{ host, port }], timeoutMs: ms, attempts: 1 }),
          });
          ctx.logger.debug({ data }, 'collected CAA audit data');
          // A report that could not be graded has nothing to compare with CT.
          const seen =
            flags.stateDir && data.exists && data.zone !== null
              ? await seenIssuers(flags.stateDir, data.domain)
              : null;
          const report = buildReport(data, {
            acmeMethod,
            usesWildcards: flags.usesWildcards ?? false,
            seenIssuers: seen,
            knownIssuers: knownCaaIssuers(),
          });
          reports.push(report);
          process.stdout.write(flags.json ? `${jsonLine(report)}\n` : `${formatAuditHuman(report)}\n`);
        } catch (err) {
          errors++;
          const message = sanitizeText(errorMessage(err));
          process.stdout.write(
            flags.json
              ? `${jsonLine({ domain, grade: 'error', error: message, findings: [] })}\n`
              : `${sanitizeText(domain)}: error: ${message}\n`,
          );
        }
      }
      ctx.setExit(auditExitCode(reports, errors));
    });
}
