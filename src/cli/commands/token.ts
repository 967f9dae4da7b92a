/**
 * @module cli/commands/token
 * `certvigil token create|list|revoke` — API tokens for `certvigil serve` (machines, Prometheus,
 * `inventory push`, or a browser login). A token is shown once, at creation; the state keeps only
 * its SHA-256. `list` only reads: it opens the state read-only and creates nothing.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { accessNameProblem, newToken } from '../../server/index.js';
import type { AccessRole, TokenRecord } from '../../store/index.js';
import { parseDuration, writeLine } from '../flags.js';
import { EXIT } from '../exit-codes.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { addAccessList, addAccessRemove, roleOption } from './access-cli.js';
import type { AccessCtx } from './access-cli.js';

const DAY_MS = 86_400_000;
/** Ten years: a longer-lived "expiring" token is a token that does not expire; say so instead. */
const MAX_EXPIRY_MS = 3650 * DAY_MS;

/** A token ID as `token create` makes them (16 hex digits); anything else names no token. */
export function checkTokenId(id: string): string {
  if (!/^[0-9a-f]{16}$/.test(id))
    throw new CertvigilError(
      'USAGE',
      `not a token ID (16 hex digits, see \`certvigil token list\`): ${sanitizeText(JSON.stringify(id), { maxLength: 60 })}`,
    );
  return id;
}

/** Checks a user or token name (one line, the flag or argument named), returning it. */
export function checkName(name: string, what: string): string {
  const problem = accessNameProblem(name);
  if (problem !== null) throw new CertvigilError('USAGE', `${what} ${problem}`);
  return name;
}

function status(t: TokenRecord, now: string): string {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  return 'valid';
}

/** What `token list` shows of a token: everything but the hash of the secret. */
function listed(t: TokenRecord, now: string): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    status: status(t, now),
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    lastUsedAt: t.lastUsedAt,
  };
}

export function registerToken(program: Command, ctx: AccessCtx): void {
  const token = program
    .command('token')
    .description('API tokens for `certvigil serve`: create (shown once), list, revoke');

  addStateOptions(
    token
      .command('create')
      .summary('make a new API token and print it (once: only its hash is kept)')
      .description(
        'Make a new API token with a role and print it alone on the first line of stdout (the ID and a\n' +
          'reminder go to stderr). Only its SHA-256 is stored: it cannot be shown again. Use it as\n' +
          '`Authorization: Bearer TOKEN` or on the login page.',
      ),
  )
    .addOption(roleOption())
    .option('--name <name>', 'what the token is for (1 to 100 printable characters; default "token")')
    .option(
      '--expires <duration>',
      'valid for this long (e.g. 90d; a bare number is days; default: no expiry)',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 created (token on stdout), 2 a usage error (nothing is created), an unsafe state\n' +
        'directory, or a store error.',
    )
    .action(async (flags: MonitorFlags & { role: AccessRole; name?: string; expires?: string }) => {
      // Every check before the store is opened: a usage error creates nothing.
      const name = checkName(flags.name ?? 'token', '--name');
      const expiresInMs =
        flags.expires === undefined
          ? null
          : parseDuration(flags.expires, '--expires', {
              unit: 'd',
              minMs: 60_000,
              maxMs: MAX_EXPIRY_MS,
              notATimer: true,
            });
      const made = newToken();
      const now = new Date();
      const record: TokenRecord = {
        id: made.id,
        name,
        role: flags.role,
        tokenSha256: made.tokenSha256,
        createdAt: now.toISOString(),
        expiresAt: expiresInMs === null ? null : new Date(now.getTime() + expiresInMs).toISOString(),
        revokedAt: null,
        lastUsedAt: null,
      };
      await withStore(flags, (store) => store.createToken(record));
      // The token alone on the first line, so that `T=$(certvigil token create … | head -1)` works.
      await writeLine(made.token);
      process.stderr.write(
        `certvigil: token ${record.id} (${record.role}${record.expiresAt === null ? '' : `, expires ${record.expiresAt}`}) created; it is shown once, above: keep it now\n`,
      );
      ctx.setExit(EXIT.OK);
    });

  addAccessList(token, ctx, {
    summary: 'every token: ID, name, role, status (never the secret)',
    jsonHelp: 'one JSON object per token, one per line',
    read: (store) => store.listTokens(),
    row: listed,
    line: (t, row) =>
      `${t.id} ${t.role.padEnd(6)} ${String(row.status).padEnd(7)} created ${t.createdAt.slice(0, 10)}` +
      ` expires ${t.expiresAt?.slice(0, 10) ?? 'never'} last used ${t.lastUsedAt?.slice(0, 16) ?? 'never'} ${JSON.stringify(t.name)}`,
    maxLength: 400,
  });

  addAccessRemove(token, ctx, {
    name: 'revoke',
    summary: 'refuse a token from now on (its ID, see `token list`)',
    argument: ['<id>', 'the token ID (16 hex digits)'],
    helpAfter:
      '\nExit status: 0 revoked (or already revoked), 2 no such token, no certvigil state (nothing is created),\n' +
      'an unsafe state directory, or a usage error.',
    check: checkTokenId,
    remove: (store, id) => store.revokeToken(id, new Date().toISOString()),
    missing: (id) => `no token ${id}`,
    done: (id) => `revoked token ${id}`,
  });
}
