/**
 * @module cli/commands/check-internal
 * `certvigil check internal` — the distributed internal check as a Nagios/Icinga plugin: a host
 * asks the central certvigil server (`GET /api/v1/hosts/HOST/check`) whether CT shows a valid
 * certificate for its managed names that it did not obtain itself (its `inventory push`). The
 * verdict is the pure `internalVerdict`; the rest reads flags and asks the server. Never OK when
 * the server could not be asked: that is UNKNOWN.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { CertvigilError } from '../../errors.js';
import { formatDuration } from '../../duration.js';
import type { Finding, PerfDatum, PluginStatus } from '../../probe/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- the one host-name rule shared with the server; server/index.ts would load hono
import { canonicalHost } from '../../server/api/hosts-input.js';
import type { ExitCode } from '../exit-codes.js';
import { parseDuration } from '../flags.js';
import type { Logger } from '../logger.js';
import { runVerdictPlugin } from '../plugin-run.js';
import { addServerOptions, apiError, apiRequest, serverTarget, timeoutMs } from '../server-request.js';
import type { ServerFlags } from '../server-request.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface CheckInternalFlags extends ServerFlags {
  host?: string;
  timeout: string;
  maxAge: string;
  json?: boolean;
}

/** Default --max-age: a host pushes at least daily (a timer); two days leave room for one miss. */
export const DEFAULT_INVENTORY_MAX_AGE_S = 2 * 86_400;

const answerSchema = z.object({
  host: z.string(),
  pushedAt: z.string(),
  managedNames: z.array(z.string()),
  unknown: z.array(
    z.object({
      tbsSha256: z.string(),
      dnsNames: z.array(z.string()),
      issuer: z.string(),
      notAfter: z.string(),
      reasons: z.array(z.object({ code: z.string(), message: z.string() })),
      knownElsewhere: z.string().nullable().optional(),
    }),
  ),
  unknownCount: z.number().int().min(0),
  checked: z.number().int().min(0),
  truncated: z.boolean().optional(),
});

export type InternalAnswer = z.infer<typeof answerSchema>;

export interface InternalVerdict {
  status: PluginStatus;
  summary: string;
  findings: Finding[];
  perfdata: PerfDatum[];
}

function names(list: readonly string[], max = 3): string {
  return list.length <= max ? list.join(', ') : `${list.slice(0, max).join(', ')} +${list.length - max}`;
}

/** The plugin verdict of a check answer at `now` (pure). */
export function internalVerdict(a: InternalAnswer, now: Date, maxAgeSeconds: number): InternalVerdict {
  const ageS = Math.max(0, Math.round((now.getTime() - Date.parse(a.pushedAt)) / 1000));
  const findings: Finding[] = [];
  for (const u of a.unknown) {
    const codes = u.reasons.map((r) => r.code).join(', ') || 'unknown';
    const elsewhere = u.knownElsewhere ? `; known to the monitor as ${u.knownElsewhere}` : '';
    findings.push({
      id: 'unknown-certificate',
      severity: 'critical',
      address: '*',
      message: `${names(u.dnsNames)} from ${u.issuer}, tbs ${u.tbsSha256.slice(0, 16)}, valid until ${u.notAfter.slice(0, 10)}: ${codes}${elsewhere}`,
    });
  }
  const stale = !Number.isFinite(ageS) || ageS > maxAgeSeconds;
  if (stale)
    findings.push({
      id: 'inventory-stale',
      severity: 'warning',
      address: '*',
      message: `the inventory of ${a.host} was pushed ${formatDuration(ageS * 1000)} ago (${a.pushedAt}), more than --max-age ${formatDuration(maxAgeSeconds * 1000)}: run \`certvigil inventory push\``,
    });
  if (a.truncated === true)
    findings.push({
      id: 'check-truncated',
      severity: 'warning',
      address: '*',
      message: 'the server did not read every issuance under a managed wildcard (too many)',
    });
  const perfdata: PerfDatum[] = [
    { label: 'unknown', value: a.unknownCount, uom: '', crit: 0, min: 0 },
    { label: 'checked', value: a.checked, uom: '', min: 0 },
    { label: 'age', value: ageS, uom: 's', warn: maxAgeSeconds, min: 0 },
  ];
  let status: PluginStatus;
  let summary: string;
  if (a.unknownCount > 0) {
    status = 'CRITICAL';
    const first = a.unknown[0];
    summary =
      `${a.unknownCount} certificate${a.unknownCount === 1 ? '' : 's'} for ${a.host}'s names not obtained by ${a.host}` +
      (first
        ? `: ${names(first.dnsNames)} from ${first.issuer} (tbs ${first.tbsSha256.slice(0, 16)}; ${first.reasons.map((r) => r.code).join(', ')})`
        : '');
  } else if (stale || a.truncated === true) {
    status = 'WARNING';
    summary = stale
      ? `inventory of ${a.host} is ${formatDuration(ageS * 1000)} old; no unknown certificate among ${a.checked} checked`
      : `no unknown certificate among ${a.checked} checked, but the check was cut short`;
  } else {
    status = 'OK';
    summary = `no unknown certificate for ${a.managedNames.length} name${a.managedNames.length === 1 ? '' : 's'} of ${a.host} (${a.checked} checked)`;
  }
  return { status, summary, findings, perfdata };
}

export function registerCheckInternal(check: Command, ctx: Ctx): void {
  addServerOptions(
    check
      .command('internal')
      .summary('does CT show a certificate for my names that I did not obtain? (Nagios/Icinga plugin)')
      .description(
        'Ask the central certvigil server for the internal check of this host: every valid certificate the\n' +
          "monitor found in CT for the names of the host's pushed inventory (`certvigil inventory push`) —\n" +
          'equal names, wildcards covering them, names one label under a managed wildcard — that is not one of\n' +
          "the host's own certificates (by certificate, TBS or key hash) nor authorised (`certs authorize`).\n\n" +
          'CRITICAL: such a certificate (names, issuer, TBS hash prefix, reason codes).\n' +
          'WARNING: the inventory was pushed longer ago than --max-age; the server cut the check short (too many\n' +
          'issuances under a managed wildcard).\n' +
          'UNKNOWN: the server could not be asked, refused (401, 403), or has no inventory for the host.\n\n' +
          'Output: "CERTVIGIL STATUS - text | unknown=N checked=N age=Ns" and one line per finding, or --json.',
      ),
  )
    .option('--host <name>', "the host whose check to ask for (default: this machine's hostname)")
    .option('-t, --timeout <duration>', 'give up on the server after this long (bare number: seconds)', '10s')
    .option('--max-age <duration>', 'WARNING when the inventory is older (bare number: seconds)', '2d')
    .option('--json', "one JSON object: status, summary, findings, perfdata and the server's answer")
    .addHelpText(
      'after',
      '\nExit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (server unreachable or refusing, no inventory\n' +
        'pushed for the host, or a usage error: one "CERTVIGIL UNKNOWN - …" line).',
    )
    .action(async (flags: CheckInternalFlags) =>
      runVerdictPlugin(ctx, flags.json, async () => {
        const target = await serverTarget(flags);
        const timeout = timeoutMs(flags.timeout, '--timeout');
        const maxAgeSeconds = Math.round(
          parseDuration(flags.maxAge, '--max-age', { unit: 's', minMs: 1000 }) / 1000,
        );
        const rawHost = (flags.host ?? hostname()).trim();
        const host = canonicalHost(rawHost);
        if (host === null)
          throw new CertvigilError(
            'USAGE',
            `host ${JSON.stringify(rawHost.slice(0, 80))} is not a host name (give --host)`,
          );
        const answer = await apiRequest(
          target,
          'GET',
          `api/v1/hosts/${encodeURIComponent(host)}/check`,
          undefined,
          timeout,
        );
        if (answer.status === 404)
          throw new CertvigilError(
            'API_REFUSED',
            `no inventory pushed for host ${host} (run \`certvigil inventory push\`)`,
          );
        if (answer.status !== 200)
          throw new CertvigilError('API_REFUSED', `check refused: ${apiError(answer)}`);
        const parsed = answerSchema.safeParse(answer.body);
        if (!parsed.success)
          throw new CertvigilError('API_REFUSED', 'the server answered something that is not a host check');
        const verdict = internalVerdict(parsed.data, new Date(), maxAgeSeconds);
        return { verdict, extra: { answer: parsed.data } };
      }),
    );
}
