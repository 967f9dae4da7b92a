/**
 * @module cli/commands/loglist
 * `certvigil loglist update` — fetch the log list now, verify it and keep it in the cache the
 *                              monitor reads (its state directory). Exit 0 refreshed, 2 failed.
 * `certvigil loglist show`   — the list in effect (cache, else the shipped snapshot, or the file):
 *                              source, age, logs. Read-only: no network, nothing written.
 */
import type { Command } from 'commander';
import { createLogListSource } from '../../ct/index.js';
import type { LogListState } from '../../ct/index.js';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { defaultStateDir } from '../ct-options.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { formatDuration, writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import type { Logger } from '../logger.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface LoglistFlags {
  logList?: string;
  stateDir?: string;
  cacheDir?: string;
  json?: boolean;
}

const LOCATION_HELP =
  'file or https URL of one CT log list v3 (default: the union of Google\u2019s all-logs list and\n' +
  'Apple\u2019s list, usable/qualified/readonly logs)';

/** Where the cached copy lives: --cache-dir, else --state-dir (the monitor's), else its default. */
function cacheDirOf(flags: LoglistFlags): string {
  for (const [value, flag] of [
    [flags.cacheDir, '--cache-dir'],
    [flags.stateDir, '--state-dir'],
    [flags.logList, '--log-list'],
  ] as const)
    if (value !== undefined && value.trim() === '')
      throw new CertvigilError('USAGE', `${flag} must not be empty`);
  if (flags.cacheDir !== undefined && flags.stateDir !== undefined)
    throw new CertvigilError('USAGE', 'give --state-dir or --cache-dir, not both');
  return flags.cacheDir ?? flags.stateDir ?? defaultStateDir();
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--log-list <file|url>', LOCATION_HELP)
    .option(
      '--state-dir <dir>',
      `the monitor's state directory, where the list is cached (default ${defaultStateDir()})`,
    )
    .option('--cache-dir <dir>', 'cache the list here instead of the state directory')
    .option('--json', 'one JSON object on stdout');
}

/** The state as one JSON object (`show` adds the logs). */
function summary(state: LogListState, now: number): Record<string, unknown> {
  return {
    source: state.source,
    fetchedAt: state.fetchedAt,
    origin: state.origin,
    ageSeconds:
      state.fetchedAt === null ? null : Math.max(0, Math.round((now - Date.parse(state.fetchedAt)) / 1000)),
    stale: state.stale,
    lastError: state.lastError,
    parts: state.parts,
    logCount: state.logs.length,
  };
}

function ageText(state: LogListState, now: number): string {
  if (state.fetchedAt === null) return 'shipped snapshot (never fetched here)';
  return `${state.fetchedAt} (${formatDuration(Math.max(0, now - Date.parse(state.fetchedAt)))} ago)`;
}

const safe = (text: string): string => sanitizeText(text, { maxLength: 200 });

async function printShow(state: LogListState, json: boolean): Promise<void> {
  const now = Date.now();
  if (json) {
    await writeLine(
      jsonLine({
        ...summary(state, now),
        logs: state.logs.map((l) => ({
          description: l.description,
          operator: l.operator,
          kind: l.kind,
          state: l.state,
          url: l.url,
          ...(l.submissionUrl !== undefined ? { submissionUrl: l.submissionUrl } : {}),
          logId: l.logId,
          mmdSeconds: l.mmdSeconds,
          ...(l.temporalInterval !== undefined ? { temporalInterval: l.temporalInterval } : {}),
        })),
      }),
    );
    return;
  }
  await writeLine(`source:     ${safe(state.source)}`);
  await writeLine(`origin:     ${state.origin}`);
  await writeLine(`fetched:    ${ageText(state, now)}`);
  for (const p of state.parts)
    await writeLine(
      `list:       ${safe(p.source)}: version ${safe(p.version ?? '?')}, timestamp ${safe(p.listTimestamp ?? 'none')}, ${
        p.signatureVerified ? 'signature verified' : 'not signed (trusted on TLS only)'
      }`,
    );
  if (state.lastError !== null)
    await writeLine(
      `last error: ${state.lastError}${state.stale ? ' (stale: failing longer than the grace period)' : ''}`,
    );
  await writeLine(`logs:       ${state.logs.length}`);
  for (const l of state.logs)
    await writeLine(
      `  ${l.state.padEnd(9)} ${l.kind.padEnd(13)} ${safe(l.operator).padEnd(14)} ${safe(l.url)}  ${safe(l.description)}`,
    );
}

export function registerLoglist(program: Command, ctx: Ctx): void {
  const loglist = program
    .command('loglist')
    .description('the CT log list the monitor follows: refresh it, show it');

  withCommon(
    loglist
      .command('update')
      .description(
        'fetch the log list now, verify it (Google\u2019s list: its signature; Apple\u2019s: TLS only) and keep it\n' +
          'in the cache (--state-dir or --cache-dir; created 0700). The shipped data/ snapshot is never changed.',
      )
      .addHelpText(
        'after',
        '\nExit status: 0 refreshed and cached, 2 the refresh failed (one line on stderr: why; the cached copy\n' +
          'is left as it was) or a usage error.',
      ),
  ).action(async (flags: LoglistFlags) => {
    const cacheDir = cacheDirOf(flags);
    const lists = createLogListSource({
      cacheDir,
      ...(flags.logList !== undefined ? { location: flags.logList } : {}),
    });
    const state = await lists.refresh(true);
    if (state.lastError !== null)
      throw new CertvigilError('LOGLIST_UNAVAILABLE', `log list update failed: ${state.lastError}`);
    if (state.cacheError !== null)
      throw new CertvigilError('STORE_UNAVAILABLE', `log list fetched but not cached: ${state.cacheError}`);
    if (flags.json) await writeLine(jsonLine({ ...summary(state, Date.now()), cacheDir }));
    else
      await writeLine(
        `updated: ${safe(state.source)}: ${state.logs.length} logs, fetched ${state.fetchedAt ?? '?'}, cached in ${safe(cacheDir)}`,
      );
    ctx.setExit(EXIT.OK);
  });

  withCommon(
    loglist
      .command('show')
      .description(
        'show the log list in effect: the cached copy (else the shipped, signed data/ snapshot; or the file),\n' +
          'its source, age and origin, and its logs with state, kind and operator. Read-only: no network, writes nothing.',
      )
      .addHelpText(
        'after',
        '\nExit status: 0 shown, 2 no list available (no cache, no snapshot for that location, unreadable file)\n' +
          'or a usage error.',
      ),
  ).action(async (flags: LoglistFlags) => {
    const cacheDir = cacheDirOf(flags);
    const lists = createLogListSource({
      cacheDir,
      readOnly: true,
      ...(flags.logList !== undefined ? { location: flags.logList } : {}),
    });
    await printShow(await lists.current(), flags.json === true);
    ctx.setExit(EXIT.OK);
  });
}
