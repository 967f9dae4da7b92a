/**
 * @module cli/commands/access-cli
 * What `certvigil token` and `certvigil user` share: the `--role` option, the `list` subcommand
 * (read-only: it opens the state read-only and creates nothing) and the subcommand that removes
 * one record by its key (`token revoke`, `user remove`), so that the two commands cannot drift
 * apart in their flags, exit statuses or output rules.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import type { AccessRole, Store } from '../../store/index.js';
import { writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';

export interface AccessCtx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

export const ROLES: readonly AccessRole[] = ['viewer', 'admin'];

export function roleOption(): Option {
  return new Option('--role <role>', 'viewer (reads) or admin (also authorises, audits)')
    .choices(ROLES)
    .makeOptionMandatory();
}

export interface AccessListSpec<T> {
  /** The subcommand's one-line summary. */
  summary: string;
  /** The `--json` option's help. */
  jsonHelp: string;
  read(store: Store): Promise<T[]>;
  /** What `--json` prints of one record (never a secret's hash), at `now` (ISO 8601). */
  row(item: T, now: string): Record<string, unknown>;
  /** The text line of one record (sanitised here, cut at `maxLength`). */
  line(item: T, row: Record<string, unknown>): string;
  maxLength: number;
}

/** Adds `<parent> list`: one line (or JSON object) per record, read-only. */
export function addAccessList<T>(parent: Command, ctx: AccessCtx, spec: AccessListSpec<T>): void {
  addStateOptions(parent.command('list').summary(spec.summary))
    .option('--json', spec.jsonHelp)
    .addHelpText(
      'after',
      '\nExit status: 0 printed, 2 no certvigil state at the state directory or database (nothing is created),\n' +
        'an unsafe state directory, or a usage error.',
    )
    .action(async (flags: MonitorFlags & { json?: boolean }) => {
      await withStore(
        flags,
        async (store) => {
          const now = new Date().toISOString();
          for (const item of await spec.read(store)) {
            const row = spec.row(item, now);
            await writeLine(
              flags.json ? jsonLine(row) : sanitizeText(spec.line(item, row), { maxLength: spec.maxLength }),
            );
          }
        },
        { readOnly: true },
      );
      ctx.setExit(EXIT.OK);
    });
}

export interface AccessRemoveSpec {
  /** The subcommand's name, summary, argument and help after the options. */
  name: string;
  summary: string;
  argument: [name: string, description: string];
  helpAfter: string;
  /** Checks the argument before the store is opened (a usage error creates nothing). */
  check(arg: string): string;
  /** Removes (or revokes) it: false when there is none. */
  remove(store: Store, key: string): Promise<boolean>;
  /** The usage error when there is none, and the line printed when done. */
  missing(key: string): string;
  done(key: string): string;
}

/** Adds `<parent> <name> <key>`: exit 2 when no such record exists; the state must exist. */
export function addAccessRemove(parent: Command, ctx: AccessCtx, spec: AccessRemoveSpec): void {
  addStateOptions(
    parent.command(spec.name).summary(spec.summary).argument(spec.argument[0], spec.argument[1]),
  )
    .addHelpText('after', spec.helpAfter)
    .action(async (arg: string, flags: MonitorFlags) => {
      const key = spec.check(arg);
      await withStore(
        flags,
        async (store) => {
          if (!(await spec.remove(store, key))) throw new CertvigilError('USAGE', spec.missing(key));
          await writeLine(spec.done(key));
        },
        { mustExist: true },
      );
      ctx.setExit(EXIT.OK);
    });
}
