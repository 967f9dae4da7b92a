/**
 * @module cli/ct-options
 * Flags shared by the `ct` commands: which log list, which log, how hard to hit it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CertvigilError } from '../errors.js';
import { CtHttpClient } from '../ct/http.js';
import { DEFAULT_LOG_LIST_URL, findLog, loadLogList } from '../ct/loglist.js';
import type { LogInfo } from '../ct/types.js';
import type { Logger } from './logger.js';
import { positiveInt } from './flags.js';

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
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '30000')
    .option('--concurrency <n>', 'parallel requests to the log', '4')
    .option('--json', 'machine-readable output: JSON lines');
}

export async function resolveLog(flags: CtFlags, logger: Logger): Promise<LogInfo> {
  const list = await loadLogList(flags.logList);
  for (const w of list.warnings) logger.warn({ logList: flags.logList }, w);
  const log = findLog(list, flags.log);
  if (!log) {
    throw new CertvigilError(
      'USAGE',
      `no log with URL ${flags.log} in ${flags.logList} (${list.logs.length} logs listed)`,
    );
  }
  return log;
}

export function httpFromFlags(flags: CtFlags, logger: Logger): { http: CtHttpClient; concurrency: number } {
  const concurrency = positiveInt(flags.concurrency, '--concurrency');
  const http = new CtHttpClient({
    timeoutMs: positiveInt(flags.timeout, '--timeout'),
    maxConcurrency: concurrency,
    onRetry: (event) => logger.warn({ retry: event }, 'retrying a CT log request'),
  });
  return { http, concurrency };
}

/** `$XDG_STATE_HOME/certvigil` or `~/.local/state/certvigil`. */
export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'certvigil');
}
