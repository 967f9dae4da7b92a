/**
 * @module cli/commands/caa-audit
 * `certvigil caa audit DOMAIN... [--json] [--resolver HOST:PORT] [--ns-port N] [--timeout MS]
 *  [--acme-method METHOD] [--uses-wildcards] [--state-dir DIR]`
 *
 * Exit status by the worst finding: 0 none or info, 1 warning, 2 critical or an error.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildReport, collectAudit, worstSeverity } from '../../caa/audit/index.js';
import type { AuditReport } from '../../caa/audit/index.js';
import { CertvigilError } from '../../errors.js';
import { caaIdentifiersForIssuer } from '../../monitor/caa-issuers.js';
import { openStore } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { resolverFromFlags } from '../resolver-options.js';
import { collect } from '../flags.js';
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
  if (errors > 0 || worst.includes('critical')) return EXIT.ERROR;
  if (worst.includes('warning')) return EXIT.FINDING;
  return EXIT.OK;
}

export function formatAuditHuman(report: AuditReport, style = makeStyle(process.stdout)): string {
  const lines = [`${style.bold(report.domain)}  grade ${style.bold(report.grade)}`];
  for (const f of report.findings) {
    const sev =
      f.severity === 'critical'
        ? style.red('CRITICAL')
        : f.severity === 'warning'
          ? style.yellow('WARNING ')
          : style.dim('INFO    ');
    lines.push(
      `  ${sev} ${f.id.padEnd(20)} ${f.name}\n           ${f.message}\n           fix: ${f.fix.replace(/\n/g, '\n                ')}`,
    );
  }
  if (report.findings.length === 0) lines.push('  no findings');
  return lines.join('\n');
}

let knownIssuersCache: Set<string> | undefined;
function knownIssuers(): Set<string> {
  if (knownIssuersCache) return knownIssuersCache;
  const table = JSON.parse(
    readFileSync(new URL('../../../data/ca-caa-identifiers.json', import.meta.url), 'utf8'),
  ) as { caa_identifiers: string[] }[];
  knownIssuersCache = new Set(table.flatMap((e) => e.caa_identifiers.map((s) => s.toLowerCase())));
  return knownIssuersCache;
}

async function seenIssuers(stateDir: string, domain: string): Promise<string[]> {
  const store = await openStore({ stateDir });
  try {
    await store.migrate();
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

export function registerCaaAudit(caa: Command, ctx: { logger: Logger; setExit(code: ExitCode): void }): void {
  caa
    .command('audit')
    .summary("audit a domain's CAA setup as an owner: policy strength, name servers, DNSSEC")
    .description(
      "Audit the CAA setup of each DOMAIN from the owner's side: find its zone and name servers through the\n" +
        'resolver, ask every name server directly (also with a mixed-case name, RFC 4343 / RFC 8659 §6), check\n' +
        'DNSSEC, and grade the policy (RFC 8659, RFC 8657 accounturi/validationmethods).\n\n' +
        'Findings: no-caa, no-accounturi, no-validationmethods, http-01-allowed, wildcard-open, no-iodef,\n' +
        'iodef-bad-scheme, malformed-record, critical-unknown-tag, ns-disagree, ns-timeout, ns-refused,\n' +
        'ns-case-mishandled, dnssec-unsigned, dnssec-bogus, cname-external, subdomain-weaker, unused-ca,\n' +
        'unknown-issuer.\n' +
        'http-01-allowed: with --acme-method dns-01, reported (warning) when validationmethods is absent or\n' +
        'lists http-01; without it, reported (info) only when validationmethods explicitly lists http-01.\n' +
        'wildcard-open: reported unless issuewild ";" is present or --uses-wildcards is given.\n' +
        'unused-ca: needs the CT monitor store (--state-dir); skipped without it.\n\n' +
        'Grade: F any critical; D three or more warnings; C two; B one; A no warnings (info only).\n' +
        'Exit status: 0 no findings or info only, 1 worst finding is a warning, 2 any critical finding,\n' +
        'lookup error or usage error.',
    )
    .argument('<domains...>', 'domain names to audit')
    .option('--json', 'print one JSON object per domain, one per line')
    .option(
      '--resolver <host:port>',
      'recursive resolver to ask (repeatable; default: /etc/resolv.conf)',
      collect,
    )
    .option('--ns-port <n>', 'port to query the authoritative name servers on', '53')
    .option('--timeout <ms>', 'per-query timeout in milliseconds', '3000')
    .option('--attempts <n>', 'rounds over the resolver list before giving up', '2')
    .option('--acme-method <method>', 'ACME challenge type your client uses, e.g. dns-01')
    .option('--uses-wildcards', 'you use wildcard certificates (do not report wildcard-open)')
    .option(
      '--state-dir <dir>',
      'CT monitor state directory: compare allowed CAs with issuers seen (unused-ca)',
    )
    .action(async (domains: string[], flags: CaaAuditFlags) => {
      const nsPort = Number(flags.nsPort);
      if (!Number.isInteger(nsPort) || nsPort <= 0 || nsPort > 65535)
        throw new CertvigilError('USAGE', `--ns-port must be a port number (got ${flags.nsPort})`);
      const resolver = await resolverFromFlags(flags);
      const timeoutMs = Number(flags.timeout ?? '3000');
      const reports: AuditReport[] = [];
      let errors = 0;
      for (const domain of domains) {
        try {
          const data = await collectAudit(domain, { resolver, nsPort, timeoutMs });
          ctx.logger.debug({ data }, 'collected CAA audit data');
          const seen = flags.stateDir ? await seenIssuers(flags.stateDir, data.domain) : null;
          const report = buildReport(data, {
            acmeMethod: flags.acmeMethod ?? null,
            usesWildcards: flags.usesWildcards ?? false,
            seenIssuers: seen,
            knownIssuers: knownIssuers(),
          });
          reports.push(report);
          process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatAuditHuman(report)}\n`);
        } catch (err) {
          errors++;
          const message = err instanceof Error ? err.message : String(err);
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ domain, grade: null, error: message, findings: [] })}\n`
              : `${domain}: error: ${message}\n`,
          );
        }
      }
      ctx.setExit(auditExitCode(reports, errors));
    });
}
