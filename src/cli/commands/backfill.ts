/**
 * @module cli/commands/backfill
 * `certvigil backfill --name DOMAIN --source crtsh|certspotter` — imports the certificates crt.sh
 * or SSLMate's Cert Spotter API already knows for DOMAIN into the monitor's state, marked with
 * their source (issue 18): the history before the monitor started (`--start-at-end`). The flags
 * are checked before anything is opened: a usage error writes nothing.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { DEFAULT_CERTSPOTTER_URL, DEFAULT_CRTSH_URL, runBackfill } from '../../probe/index.js';
import type {
  BackfillOptions,
  BackfillProgress,
  BackfillSource,
  BackfillSummary,
} from '../../probe/index.js';
import { sanitizeText } from '../../sanitize.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { positiveInt, writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import type { Logger } from '../logger.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { makeProgress } from '../progress.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface BackfillFlags extends MonitorFlags {
  name?: string;
  subdomains?: boolean;
  source?: string;
  url?: string;
  since?: string;
  maxCerts?: string;
}

const shown = (text: string): string => sanitizeText(JSON.stringify(text), { maxLength: 120 });

/** A DNS name as the APIs take it: LDH labels (and `_`), at least two, ≤ 253 octets (RFC 1035 §2.3.4). */
export function checkDomain(value: string | undefined): string {
  if (value === undefined || value === '') throw new CertvigilError('USAGE', '--name DOMAIN is required');
  const name = value.toLowerCase().replace(/\.$/, '');
  if (name.startsWith('*.'))
    throw new CertvigilError(
      'USAGE',
      `--name ${shown(value)}: give the domain without "*." (add --subdomains)`,
    );
  const label = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
  const labels = name.split('.');
  if (name.length > 253 || labels.length < 2 || !labels.every((l) => label.test(l)))
    throw new CertvigilError('USAGE', `--name ${shown(value)} is not a domain name (e.g. example.com)`);
  return name;
}

function checkSource(value: string | undefined): BackfillSource {
  if (value === 'crtsh' || value === 'certspotter') return value;
  throw new CertvigilError(
    'USAGE',
    value === undefined
      ? '--source crtsh|certspotter is required'
      : `--source ${shown(value)}: crtsh or certspotter`,
  );
}

function checkUrl(value: string | undefined, source: BackfillSource): string {
  if (value === undefined) return source === 'crtsh' ? DEFAULT_CRTSH_URL : DEFAULT_CERTSPOTTER_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CertvigilError('USAGE', `--url ${shown(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CertvigilError('USAGE', `--url ${shown(value)}: only http and https`);
  if (url.username !== '' || url.password !== '')
    throw new CertvigilError(
      'USAGE',
      '--url must not carry credentials (the API key comes from $CERTSPOTTER_API_KEY)',
    );
  return url.href;
}

/** `--since 2025-01-01` or a full ISO 8601 time (UTC when no zone is given). */
export function checkSince(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const iso = /^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value;
  const ok = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/.test(value);
  const t = ok ? Date.parse(/[Zz]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`) : NaN;
  if (Number.isNaN(t))
    throw new CertvigilError('USAGE', `--since ${shown(value)} is not a date (YYYY-MM-DD)`);
  return new Date(t);
}

function human(s: BackfillSummary): string[] {
  const left = [
    s.beforeSince > 0 ? `${s.beforeSince} before --since` : '',
    s.truncated > 0 ? `${s.truncated} past --max-certs` : '',
    s.invalid > 0 ? `${s.invalid} malformed` : '',
    s.unreadable > 0 ? `${s.unreadable} unreadable` : '',
  ].filter((x) => x !== '');
  return [
    `${s.source}: ${s.listed} listed for ${s.domain}${s.subdomains ? ' and its subdomains' : ''}; ` +
      `${s.imported} issuance(s) imported: ${s.added} new, ${s.known} already known` +
      (left.length > 0 ? `; left out: ${left.join(', ')}` : ''),
  ];
}

const HELP = `
Reads the certificates crt.sh (https://crt.sh, JSON search; each certificate is downloaded to
compute its TBS hash) or SSLMate's Cert Spotter API v1 (https://api.certspotter.com, unexpired
issuances only; API key from $CERTSPOTTER_API_KEY, sent as a Bearer token) list for --name, and
stores them in the monitor's state marked backfill:crtsh / backfill:certspotter. A certificate
later found in a CT log by \`certvigil monitor\` stays one issuance (same TBS hash). Rate limits
(HTTP 429/503) are waited out (Retry-After) a few times. Progress goes to stderr.

Exit status: 0 imported (the counts on stdout; --json: one JSON object), 2 a usage error (one line
on stderr, nothing written), the API failed or answered something else (after retries; 401: a bad
API key), or the state could not be opened (one line on stderr).`;

export function registerBackfill(program: Command, ctx: Ctx): void {
  addStateOptions(
    program
      .command('backfill')
      .summary('import the certificates crt.sh or Cert Spotter already know for a domain'),
  )
    .option('--name <domain>', 'the domain whose certificates to import')
    .option('--subdomains', 'also every name under it')
    .option('--source <source>', 'crtsh or certspotter')
    .option('--url <url>', 'API base URL (default https://crt.sh or https://api.certspotter.com)')
    .option('--since <date>', 'only certificates valid from this date on (notBefore, YYYY-MM-DD)')
    .option('--max-certs <n>', 'import at most N certificates (crt.sh: the newest)', '5000')
    .option('--json', 'one JSON object with the counts')
    .addHelpText('after', HELP)
    .action(async (flags: BackfillFlags) => {
      const source = checkSource(flags.source);
      const opts: BackfillOptions = {
        source,
        domain: checkDomain(flags.name),
        subdomains: flags.subdomains === true,
        baseUrl: checkUrl(flags.url, source),
        since: checkSince(flags.since),
        maxCertificates: positiveInt(flags.maxCerts ?? '5000', '--max-certs', 100_000),
        ...(source === 'certspotter' && process.env.CERTSPOTTER_API_KEY
          ? { apiKey: process.env.CERTSPOTTER_API_KEY }
          : {}),
      };
      const summary = await withStore(flags, async (store) => {
        const progress = makeProgress(`backfill ${source}`, ctx.logger);
        try {
          return await runBackfill(
            { ...opts, onProgress: (e: BackfillProgress) => report(e, ctx.logger, progress) },
            store,
          );
        } finally {
          progress.stop();
        }
      });
      for (const line of flags.json ? [jsonLine(summary)] : human(summary)) await writeLine(line);
      ctx.setExit(EXIT.OK);
    });
}

function report(e: BackfillProgress, logger: Logger, progress: { update(d: number, t: number): void }): void {
  if (e.kind === 'certificates') progress.update(e.done, e.total);
  else if (e.kind === 'retry')
    logger.warn(
      { status: e.status, waitSeconds: e.waitSeconds, attempt: e.attempt },
      'backfill: the API asks to slow down; waiting',
    );
  else logger.info({ listed: e.listed, page: e.page }, 'backfill: listed');
}
