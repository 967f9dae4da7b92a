/**
 * @module cli/commands/user
 * `certvigil user add|list|remove` — people who log in to `certvigil serve` with a name and a
 * password (kept as scrypt, never in clear). The password is never a flag (flags end up in shell
 * history and `ps`): it comes from stdin (`--password-stdin`) or a prompt without echo.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { hashPassword, passwordProblem, userNameProblem } from '../../server/index.js';
import type { AccessRole } from '../../store/index.js';
import { writeLine } from '../flags.js';
import { EXIT } from '../exit-codes.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { addAccessList, addAccessRemove, roleOption } from './access-cli.js';
import type { AccessCtx } from './access-cli.js';

function checkUserName(name: string): string {
  const problem = userNameProblem(name);
  if (problem !== null) throw new CertvigilError('USAGE', `the user name ${problem}`);
  return name;
}

/** More than any password we accept: stdin beyond this is not a password. */
const MAX_STDIN = 4096;

/** The first line of stdin (without its line ending); bounded. */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_STDIN)
      throw new CertvigilError('USAGE', `--password-stdin: more than ${MAX_STDIN} bytes on stdin`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split('\n')[0] ?? '';
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Asks for a line on the terminal without echoing it (raw mode; Ctrl-C or Ctrl-D abort). */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err: Error | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004')
          return done(new CertvigilError('USAGE', 'no password given (aborted)'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (typed.length < MAX_STDIN) typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readPasswordFromStdin();
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true)
    throw new CertvigilError(
      'USAGE',
      'no terminal to ask for the password: give it on stdin with --password-stdin',
    );
  const first = await promptHidden('Password: ');
  const problem = passwordProblem(first);
  if (problem !== null) throw new CertvigilError('USAGE', `the password ${problem}`);
  const again = await promptHidden('Password (again): ');
  if (again !== first) throw new CertvigilError('USAGE', 'the two passwords differ');
  return first;
}

export function registerUser(program: Command, ctx: AccessCtx): void {
  const user = program
    .command('user')
    .description('people who log in to `certvigil serve` with a name and password: add, list, remove');

  addStateOptions(
    user
      .command('add')
      .summary('add a user (password from stdin or a prompt without echo)')
      .argument('<name>', '1 to 64 characters of A-Z a-z 0-9 . _ @ -'),
  )
    .addOption(roleOption())
    .option(
      '--password-stdin',
      'read the password from the first line of stdin (else: prompt on the terminal)',
    )
    .addHelpText(
      'after',
      `\nThe password must be at least 12 characters. It is kept as scrypt (RFC 7914), never in clear.\n\n` +
        'Exit status: 0 added, 2 the user exists already (`user remove` first), a usage error or a password\n' +
        'that is too short (nothing is created), an unsafe state directory, or a store error.',
    )
    .action(async (name: string, flags: MonitorFlags & { role: AccessRole; passwordStdin?: boolean }) => {
      // Name, role and password are all checked before the store is opened: nothing is created
      // on a usage error.
      checkUserName(name);
      const password = await readPassword(flags.passwordStdin === true);
      const problem = passwordProblem(password);
      if (problem !== null) throw new CertvigilError('USAGE', `the password ${problem}`);
      const passwordHash = await hashPassword(password);
      await withStore(flags, async (store) => {
        // Replacing silently would keep the old sessions alive with the new role or password;
        // `user remove` ends them (the store's deleteUser deletes the user's sessions).
        if ((await store.getUser(name)) !== null)
          throw new CertvigilError(
            'USAGE',
            `user ${sanitizeText(JSON.stringify(name), { maxLength: 120 })} exists already (remove it first to change its role or password)`,
          );
        await store.putUser({ name, role: flags.role, passwordHash, createdAt: new Date().toISOString() });
      });
      await writeLine(sanitizeText(`added user ${JSON.stringify(name)} (${flags.role})`));
      ctx.setExit(EXIT.OK);
    });

  addAccessList(user, ctx, {
    summary: 'every user: name, role, created (never the password)',
    jsonHelp: 'one JSON object per user, one per line',
    read: (store) => store.listUsers(),
    row: (u) => ({ name: u.name, role: u.role, createdAt: u.createdAt }),
    line: (u) => `${u.role.padEnd(6)} created ${u.createdAt.slice(0, 10)} ${JSON.stringify(u.name)}`,
    maxLength: 300,
  });

  addAccessRemove(user, ctx, {
    name: 'remove',
    summary: 'remove a user and end their sessions',
    argument: ['<name>', 'the user name'],
    helpAfter:
      '\nExit status: 0 removed, 2 no such user, no certvigil state (nothing is created), an unsafe state\n' +
      'directory, or a usage error.',
    check: checkUserName,
    remove: (store, name) => store.deleteUser(name),
    missing: (name) => `no user ${sanitizeText(JSON.stringify(name), { maxLength: 120 })}`,
    done: (name) => sanitizeText(`removed user ${JSON.stringify(name)} and their sessions`),
  });
}
