/**
 * @module cli/ct-options
 * Flags shared by the `ct` commands: which log list, which log, how hard to hit it.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../errors.js';
import { CtHttpClient, DEFAULT_LOG_LIST_URL, findLog, loadLogList } from '../ct/index.js';
import type { LogInfo } from '../ct/index.js';
import type { Logger } from './logger.js';
import { parseDuration, positiveInt } from './flags.js';
import { sanitizeText } from '../sanitize.js';

export interface CtFlags {
  logList: string;
  log: string;
  timeout: string;
  concurrency: string;
  json?: boolean;
}

export function addCtOptions(cmd: Command): Command {
  return cmd
    .option('--log-list <file|url>', 'CT log list v3 (Google/Apple format)', DEFAULT_LOG_LIST_URL)
    .requiredOption(
      '--log <url>',
      "the log's URL prefix (RFC 6962) or monitoring prefix (static-ct-api), as in the list",
    )
    .option(
      '--timeout <duration>',
      'per-request timeout: 500ms, 30s, 2m; a bare number is milliseconds',
      '30000',
    )
    .option('--concurrency <n>', `parallel requests to the log (1-${MAX_CONCURRENCY})`, '4')
    .option('--json', 'machine-readable output: JSON lines');
}

/** More parallel requests than this only gets a monitor throttled (or banned) by a log. */
export const MAX_CONCURRENCY = 64;

/** What the flags say, checked before any file or network is touched. */
export interface CtSettings {
  timeoutMs: number;
  concurrency: number;
}

/**
 * Checks every shared `ct` flag (usage errors, exit 2) so that nothing is read, fetched or
 * created on bad input: the timeout and concurrency bounds, `--log` an http(s) URL without
 * credentials, `--log-list` a file or an http(s) URL without credentials.
 */
export function checkCtFlags(flags: CtFlags): CtSettings {
  const timeoutMs = parseDuration(flags.timeout, '--timeout', { unit: 'ms', minMs: 100, maxMs: 600_000 });
  const concurrency = positiveInt(flags.concurrency, '--concurrency', MAX_CONCURRENCY);
  checkHttpUrl(flags.log, '--log');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(flags.logList) && !/^file:/i.test(flags.logList))
    checkHttpUrl(flags.logList, '--log-list');
  return { timeoutMs, concurrency };
}

function checkHttpUrl(value: string, flag: string): void {
  const shown = sanitizeText(JSON.stringify(value), { maxLength: 200 });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CertvigilError('USAGE', `${flag} must be an http:// or https:// URL (got ${shown})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CertvigilError('USAGE', `${flag} must be an http:// or https:// URL (got ${shown})`);
  // Credentials in a URL end up in logs, error messages and process listings.
  if (url.username !== '' || url.password !== '')
    throw new CertvigilError('USAGE', `${flag} must not carry a user name or password`);
}

export async function resolveLog(flags: CtFlags, logger: Logger): Promise<LogInfo> {
  const list = await loadLogList(flags.logList);
  for (const w of list.warnings) logger.warn({ logList: flags.logList }, sanitizeText(w, { maxLength: 500 }));
  const log = findLog(list, flags.log);
  if (!log) {
    throw new CertvigilError(
      'USAGE',
      sanitizeText(`no log with URL ${flags.log} in ${flags.logList} (${list.logs.length} logs listed)`, {
        maxLength: 500,
      }),
    );
  }
  return log;
}

export function httpFromFlags(
  settings: CtSettings,
  logger: Logger,
): { http: CtHttpClient; concurrency: number } {
  const { concurrency } = settings;
  const http = new CtHttpClient({
    timeoutMs: settings.timeoutMs,
    maxConcurrency: concurrency,
    onRetry: (event) => logger.warn({ retry: event }, 'retrying a CT log request'),
  });
  return { http, concurrency };
}

export { defaultStateDir } from './state-options.js';
