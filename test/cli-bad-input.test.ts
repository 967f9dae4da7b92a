/**
 * The whole CLI fed bad input, as an operator at 3 a.m. would (issue 12): every command × a missing,
 * empty, directory or binary file, a bad URL, a bad port, negative, huge and non-numeric numbers.
 * Each must end in a usage/input error — exit 2 (3 and one `CERTVIGIL UNKNOWN -` status line for the
 * monitoring plugins under `check`) — with exactly one line on stderr, no stack trace, no control
 * bytes, and nothing created anywhere: not in the working directory, not in $HOME (where the default
 * state directory lives), not in the state directory named on the command line.
 */
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSafeText } from '../src/sanitize.js';
import { CLI } from './cli-run.js';

let root = '';
let home = '';
let work = '';
const f = {
  missing: '',
  empty: '',
  dir: '',
  binary: '',
  missingState: '',
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'certvigil-badinput-'));
  home = join(root, 'home');
  work = join(root, 'work');
  mkdirSync(home);
  mkdirSync(work);
  const inputs = join(root, 'inputs');
  mkdirSync(inputs);
  f.missing = join(inputs, 'does-not-exist');
  f.empty = join(inputs, 'empty');
  writeFileSync(f.empty, '');
  f.dir = join(inputs, 'a-directory');
  mkdirSync(f.dir);
  f.binary = join(inputs, 'binary');
  // NUL, ESC sequences, invalid UTF-8 and a bidi override: what a wrong file or an attacker gives.
  writeFileSync(
    f.binary,
    Buffer.from([0, 1, 2, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe, 0xe2, 0x80, 0xae, 0x0d, 0x0a, 0x00, 0x7f]),
  );
  f.missingState = join(root, 'state-that-must-not-appear');
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every path under `dir`, recursively (the snapshot that must not change). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: work,
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          NO_COLOR: '1',
          HOME: home,
          XDG_STATE_HOME: join(home, '.local', 'state'),
          XDG_CACHE_HOME: join(home, '.cache'),
          XDG_CONFIG_HOME: join(home, '.config'),
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

type Row = readonly [label: string, args: () => string[], env?: NodeJS.ProcessEnv];

const BIG = '99999999999999999999';
/** A state directory that does not exist, new for each row (one row creating it must not hide another). */
let stateSeq = 0;
const S = (): string[] => ['--state-dir', `${f.missingState}-${++stateSeq}`];

/** Commands that follow the CLI's own exit codes: 2 for bad input. */
const ERROR_ROWS: Row[] = [
  // global
  ['unknown command', () => ['frobnicate']],
  ['unknown option', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--frob']],
  ['--log-level verbose', () => ['--log-level', 'verbose', 'caa', 'check', 'x.test', '--ca', 'ca.test']],
  [
    'CERTVIGIL_LOG_LEVEL=bogus',
    () => ['caa', 'check', 'x.test', '--ca', 'ca.test'],
    { CERTVIGIL_LOG_LEVEL: 'bogus' },
  ],
  // caa check
  ['caa check: no names', () => ['caa', 'check', '--ca', 'ca.test']],
  ['caa check: no --ca', () => ['caa', 'check', 'x.test']],
  ['caa check: --ca URL', () => ['caa', 'check', 'x.test', '--ca', 'https://ca.test/']],
  ['caa check: --ca with space', () => ['caa', 'check', 'x.test', '--ca', 'ca test']],
  ['caa check: --ca empty label', () => ['caa', 'check', 'x.test', '--ca', 'ca..test']],
  [
    'caa check: --method unknown',
    () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--method', 'bogus-01'],
  ],
  [
    'caa check: --account-uri not a URL',
    () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--account-uri', 'notaurl'],
  ],
  [
    'caa check: --account-uri http',
    () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--account-uri', 'http://ca.test/acct/1'],
  ],
  [
    'caa check: --resolver port 99999',
    () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--resolver', '127.0.0.1:99999'],
  ],
  ['caa check: --resolver [::1', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--resolver', '[::1']],
  ['caa check: --timeout negative', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--timeout', '-5']],
  ['caa check: --timeout huge', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--timeout', BIG]],
  ['caa check: --timeout words', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--timeout', 'soon']],
  ['caa check: --attempts 0', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--attempts', '0']],
  ['caa check: --attempts huge', () => ['caa', 'check', 'x.test', '--ca', 'ca.test', '--attempts', BIG]],
  // caa suggest / evaluate / audit
  ['caa suggest: --acme-dir missing', () => ['caa', 'suggest', 'x.test', '--acme-dir', f.missing]],
  [
    'caa suggest: --iodef ftp',
    () => [
      'caa',
      'suggest',
      'x.test',
      '--ca',
      'ca.test',
      '--account-uri',
      'https://ca.test/a/1',
      '--iodef',
      'ftp://x.test/',
    ],
  ],
  [
    'caa suggest: --format bogus',
    () => [
      'caa',
      'suggest',
      'x.test',
      '--ca',
      'ca.test',
      '--account-uri',
      'https://ca.test/a/1',
      '--format',
      'bogus',
    ],
  ],
  [
    'caa evaluate: --zone missing',
    () => ['caa', 'evaluate', 'x.test', '--ca', 'ca.test', '--zone', f.missing],
  ],
  ['caa evaluate: --zone directory', () => ['caa', 'evaluate', 'x.test', '--ca', 'ca.test', '--zone', f.dir]],
  ['caa evaluate: --zone binary', () => ['caa', 'evaluate', 'x.test', '--ca', 'ca.test', '--zone', f.binary]],
  ['caa audit: --ns-port 99999', () => ['caa', 'audit', 'x.test', '--ns-port', '99999']],
  ['caa audit: --timeout negative', () => ['caa', 'audit', 'x.test', '--timeout', '-1']],
  ['caa audit: --resolver bad port', () => ['caa', 'audit', 'x.test', '--resolver', '127.0.0.1:0']],
  // ct
  [
    'ct entries: --start negative',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.empty,
      '--log',
      'https://log.test/',
      '--start',
      '-1',
      '--end',
      '2',
    ],
  ],
  [
    'ct entries: --end huge',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.empty,
      '--log',
      'https://log.test/',
      '--start',
      '0',
      '--end',
      BIG,
    ],
  ],
  [
    'ct entries: --start words',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.empty,
      '--log',
      'https://log.test/',
      '--start',
      'x',
      '--end',
      '1',
    ],
  ],
  [
    'ct entries: --log-list missing',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.missing,
      '--log',
      'https://log.test/',
      '--start',
      '0',
      '--end',
      '1',
    ],
  ],
  [
    'ct entries: --log-list empty',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.empty,
      '--log',
      'https://log.test/',
      '--start',
      '0',
      '--end',
      '1',
    ],
  ],
  [
    'ct entries: --log-list directory',
    () => ['ct', 'entries', '--log-list', f.dir, '--log', 'https://log.test/', '--start', '0', '--end', '1'],
  ],
  [
    'ct entries: --log-list binary',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.binary,
      '--log',
      'https://log.test/',
      '--start',
      '0',
      '--end',
      '1',
    ],
  ],
  [
    'ct entries: --log not a URL',
    () => ['ct', 'entries', '--log-list', f.binary, '--log', 'notaurl', '--start', '0', '--end', '1'],
  ],
  [
    'ct entries: --concurrency 0',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.binary,
      '--log',
      'https://log.test/',
      '--start',
      '0',
      '--end',
      '1',
      '--concurrency',
      '0',
    ],
  ],
  [
    'ct entries: --timeout huge',
    () => [
      'ct',
      'entries',
      '--log-list',
      f.binary,
      '--log',
      'https://log.test/',
      '--start',
      '0',
      '--end',
      '1',
      '--timeout',
      BIG,
    ],
  ],
  [
    'ct audit: --log-list missing',
    () => ['ct', 'audit', '--log-list', f.missing, '--log', 'https://log.test/', ...S()],
  ],
  [
    'ct audit: --log-list binary',
    () => ['ct', 'audit', '--log-list', f.binary, '--log', 'https://log.test/', ...S()],
  ],
  // monitor
  [
    'monitor: --watchlist missing',
    () => ['monitor', '--once', '--watchlist', f.missing, '--log-list', f.missing, ...S()],
  ],
  ['monitor: --watchlist directory', () => ['monitor', '--once', '--watchlist', f.dir, ...S()]],
  ['monitor: --watchlist binary', () => ['monitor', '--once', '--watchlist', f.binary, ...S()]],
  ['monitor: --config missing', () => ['monitor', '--once', '--config', f.missing, ...S()]],
  ['monitor: --config directory', () => ['monitor', '--once', '--config', f.dir, ...S()]],
  ['monitor: --config binary', () => ['monitor', '--once', '--config', f.binary, ...S()]],
  ['monitor: --interval negative', () => ['monitor', '--interval', '-1', ...S()]],
  ['monitor: --interval huge', () => ['monitor', '--interval', BIG, ...S()]],
  ['monitor: --interval past 2^31 ms', () => ['monitor', '--interval', '2147484', ...S()]],
  ['monitor: --inventory missing', () => ['monitor', '--once', '--inventory', f.missing, ...S()]],
  ['monitor: --log-list missing', () => ['monitor', '--once', '--log-list', f.missing, ...S()]],
  ['monitor: --database not a URL', () => ['monitor', '--once', '--database', 'notaurl']],
  [
    'monitor: --caa-resolver bad port',
    () => ['monitor', '--once', '--caa-resolver', '127.0.0.1:99999', ...S()],
  ],
  // certs / inventory / notify
  ['certs list: no state', () => ['certs', 'list', ...S()]],
  ['certs list: no state (default dir)', () => ['certs', 'list']],
  ['certs show: no state', () => ['certs', 'show', 'ab'.repeat(32), ...S()]],
  ['certs show: bad hash', () => ['certs', 'show', 'zz', ...S()]],
  ['certs authorize: bad hash', () => ['certs', 'authorize', 'not-a-hash', ...S()]],
  ['certs list: --config binary', () => ['certs', 'list', '--config', f.binary, ...S()]],
  ['inventory scan: --inventory missing', () => ['inventory', 'scan', '--inventory', f.missing, ...S()]],
  ['notify test: --config missing', () => ['notify', 'test', '--config', f.missing, ...S()]],
  ['acme accounts: --acme-dir missing', () => ['acme', 'accounts', '--acme-dir', f.missing]],
  // jarm / mitm
  ['jarm: [::1', () => ['jarm', '[::1']],
  ['jarm: port 99999', () => ['jarm', '127.0.0.1:99999']],
  ['jarm: port 0', () => ['jarm', '127.0.0.1:0']],
  ['jarm: empty host', () => ['jarm', ':443']],
  ['jarm: --probe-timeout negative', () => ['jarm', '127.0.0.1:443', '--probe-timeout', '-1']],
  ['jarm: --concurrency huge', () => ['jarm', '127.0.0.1:443', '--concurrency', BIG]],
  ['mitm learn: [::1', () => ['mitm', 'learn', '[::1', ...S()]],
  ['mitm learn: --ports 70000', () => ['mitm', 'learn', '127.0.0.1', '--ports', '70000', ...S()]],
  ['mitm learn: --ports 0', () => ['mitm', 'learn', '127.0.0.1', '--ports', '0', ...S()]],
  ['mitm learn: --rounds 0', () => ['mitm', 'learn', '127.0.0.1', '--rounds', '0', ...S()]],
  ['mitm learn: --hops negative', () => ['mitm', 'learn', '127.0.0.1', '--hops', '-1', ...S()]],
  ['mitm show: no state', () => ['mitm', 'show', ...S()]],
  ['mitm forget: no state', () => ['mitm', 'forget', '127.0.0.1', ...S()]],
  // iodef
  ['iodef build: --ca with space', () => ['iodef', 'build', 'x.test', '--ca', 'ca test']],
  [
    'iodef build: --method unknown',
    () => ['iodef', 'build', 'x.test', '--ca', 'ca.test', '--method', 'bogus'],
  ],
  [
    'iodef send: --smtp port 99999',
    () => ['iodef', 'send', 'x.test', '--ca', 'ca.test', '--smtp', '127.0.0.1:99999', ...S()],
  ],
  ['iodef serve: --listen [::1', () => ['iodef', 'serve', '--listen', '[::1', ...S()]],
  ['iodef serve: --listen port 99999', () => ['iodef', 'serve', '--listen', '127.0.0.1:99999', ...S()]],
  [
    'iodef serve: --tls-cert missing',
    () => [
      'iodef',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      f.missing,
      '--tls-key',
      f.missing,
      ...S(),
    ],
  ],
  [
    'iodef serve: --tls-cert empty',
    () => ['iodef', 'serve', '--listen', '127.0.0.1:0', '--tls-cert', f.empty, '--tls-key', f.empty, ...S()],
  ],
  [
    'iodef serve: --tls-cert binary',
    () => [
      'iodef',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      f.binary,
      '--tls-key',
      f.binary,
      ...S(),
    ],
  ],
  ['iodef list: no state', () => ['iodef', 'list', ...S()]],
  ['status: no state', () => ['status', ...S()]],
  ['status: --json, no state', () => ['status', '--json', ...S()]],
  ['status: --config binary', () => ['status', '--config', f.binary, ...S()]],
];

/** The monitoring plugins: 3 (UNKNOWN) and one status line on stdout. */
const PLUGIN_ROWS: Row[] = [
  ['check monitor: no state', () => ['check', 'monitor', ...S()]],
  ['check monitor: --max-age words', () => ['check', 'monitor', '--max-age', 'soon', ...S()]],
  ['check monitor: --max-age huge', () => ['check', 'monitor', '--max-age', BIG, ...S()]],
  ['check monitor: --database not a URL', () => ['check', 'monitor', '--database', 'notaurl']],
  ['check endpoint: no target', () => ['check', 'endpoint']],
  ['check endpoint: [::1', () => ['check', 'endpoint', '[::1']],
  ['check endpoint: port 99999', () => ['check', 'endpoint', '127.0.0.1:99999']],
  ['check endpoint: -p 0', () => ['check', 'endpoint', '127.0.0.1', '-p', '0']],
  ['check endpoint: -t negative', () => ['check', 'endpoint', '127.0.0.1:443', '-t', '-5']],
  ['check endpoint: -t huge', () => ['check', 'endpoint', '127.0.0.1:443', '-t', BIG]],
  ['check endpoint: -w words', () => ['check', 'endpoint', '127.0.0.1:443', '-w', 'soon']],
  ['check endpoint: --ca-file missing', () => ['check', 'endpoint', '127.0.0.1:443', '--ca-file', f.missing]],
  ['check endpoint: --ca-file empty', () => ['check', 'endpoint', '127.0.0.1:443', '--ca-file', f.empty]],
  ['check endpoint: --ca-file directory', () => ['check', 'endpoint', '127.0.0.1:443', '--ca-file', f.dir]],
  ['check endpoint: --ca-file binary', () => ['check', 'endpoint', '127.0.0.1:443', '--ca-file', f.binary]],
  ['check endpoint: --log-list binary', () => ['check', 'endpoint', '127.0.0.1:443', '--log-list', f.binary]],
  ['check endpoint: --pin not a hash', () => ['check', 'endpoint', '127.0.0.1:443', '--pin', 'xyz']],
  [
    'check endpoint: --starttls unknown',
    () => ['check', 'endpoint', '127.0.0.1:443', '--starttls', 'gopher'],
  ],
  ['check endpoint: --connect-to [::1', () => ['check', 'endpoint', 'x.test:443', '--connect-to', '[::1']],
  [
    'check endpoint: --log-level verbose',
    () => ['--log-level', 'verbose', 'check', 'endpoint', '127.0.0.1:443'],
  ],
  ['check endpoint: unknown option', () => ['check', 'endpoint', '127.0.0.1:443', '--frob']],
  ['check endpoints: --config missing', () => ['check', 'endpoints', '--config', f.missing]],
  ['check endpoints: --config empty', () => ['check', 'endpoints', '--config', f.empty]],
  ['check endpoints: --config directory', () => ['check', 'endpoints', '--config', f.dir]],
  ['check endpoints: --config binary', () => ['check', 'endpoints', '--config', f.binary]],
  [
    'check endpoints: --concurrency 0',
    () => ['check', 'endpoints', '--config', f.empty, '--concurrency', '0'],
  ],
  ['check mitm: [::1', () => ['check', 'mitm', '[::1', ...S()]],
  ['check mitm: --ports 70000', () => ['check', 'mitm', '127.0.0.1', '--ports', '70000', ...S()]],
  ['check mitm: no state', () => ['check', 'mitm', '127.0.0.1', '--ports', '443', ...S()]],
];

function expectNothingCreated(before: string[]): void {
  expect(tree(root)).toEqual(before);
}

function expectOneCleanLine(text: string): void {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `expected exactly one line, got:\n${text}`).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace
  expect(isSafeText(text.replace(/\n$/, ''))).toBe(true); // no control bytes, no bidi overrides
}

describe('every command rejects bad input with exit 2, one line, nothing created', () => {
  it.each(ERROR_ROWS)('%s', async (...row) => {
    const [, args, env] = row as unknown as Row;
    const before = tree(root);
    const r = await run(args(), env);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expectOneCleanLine(r.stderr);
    expectNothingCreated(before);
  });
});

describe('every monitoring plugin answers bad input with UNKNOWN (3) and one status line', () => {
  it.each(PLUGIN_ROWS)('%s', async (...row) => {
    const [, args, env] = row as unknown as Row;
    const before = tree(root);
    const r = await run(args(), env);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expectOneCleanLine(r.stdout);
    expect(r.stdout).toMatch(/^CERTVIGIL UNKNOWN - /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expectNothingCreated(before);
  });
});

/**
 * A Node system error is not a CertvigilError (isCertvigilError checks the brand, issue 15), yet it
 * is still "could not decide", never a bug: one line, no `internal error:`, no stack. A preload
 * throws a real ENOENT while the command waits on a resolver / a server that never answers.
 */
describe('a Node system error (ENOENT) that escapes a command is still one line', () => {
  const preload = `--import data:text/javascript,${encodeURIComponent(
    "import fs from 'node:fs'; setTimeout(() => fs.readFileSync('/nonexistent/certvigil-e2e'), 300).unref();",
  )}`;
  const enoent = "ENOENT: no such file or directory, open '/nonexistent/certvigil-e2e'";

  it('caa check: exit 2, `certvigil: ENOENT: …` on stderr', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    try {
      const { port } = udp.address();
      const before = tree(root);
      const r = await run(
        ['caa', 'check', 'x.test', '--ca', 'ca.test', '--resolver', `127.0.0.1:${port}`, '--timeout', '10s'],
        { NODE_OPTIONS: preload },
      );
      expect(r).toEqual({ code: 2, stdout: '', stderr: `certvigil: ${enoent}\n` });
      expectNothingCreated(before);
    } finally {
      udp.close();
    }
  });

  it('check endpoint: exit 3, one `CERTVIGIL UNKNOWN - ENOENT: …` line', async () => {
    const held: Socket[] = [];
    const server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await run(['check', 'endpoint', `127.0.0.1:${port}`, '--timeout', '10s'], {
        NODE_OPTIONS: preload,
      });
      expect(r).toEqual({ code: 3, stdout: `CERTVIGIL UNKNOWN - ${enoent}\n`, stderr: '' });
    } finally {
      for (const socket of held) socket.destroy();
      server.close();
    }
  });
});

describe('a command group without its subcommand prints its help', () => {
  it.each([
    ['certvigil alone', 2, []],
    ['certvigil check alone (a plugin: UNKNOWN)', 3, ['check']],
    ['certvigil caa alone', 2, ['caa']],
  ] as const)('%s → exit %d with the usage', async (_label, code, args) => {
    const before = tree(root);
    const r = await run([...args]);
    expect(r.code).toBe(code);
    expect(r.stdout + r.stderr).toMatch(/Usage: certvigil/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expectNothingCreated(before);
  });
});

describe('every command states its exit statuses in --help', () => {
  it.each([
    ['caa', 'check'],
    ['caa', 'suggest'],
    ['caa', 'evaluate'],
    ['caa', 'audit'],
    ['ct', 'entries'],
    ['ct', 'audit'],
    ['monitor'],
    ['certs', 'list'],
    ['certs', 'show'],
    ['certs', 'authorize'],
    ['certs', 'unauthorize'],
    ['inventory', 'scan'],
    ['notify', 'test'],
    ['acme', 'accounts'],
    ['check', 'endpoint'],
    ['check', 'endpoints'],
    ['check', 'mitm'],
    ['check', 'monitor'],
    ['status'],
    ['jarm'],
    ['mitm', 'learn'],
    ['mitm', 'relearn'],
    ['mitm', 'show'],
    ['mitm', 'forget'],
    ['iodef', 'build'],
    ['iodef', 'send'],
    ['iodef', 'serve'],
    ['iodef', 'list'],
    ['loglist', 'update'],
    ['loglist', 'show'],
  ])('%s %s --help', async (...cmd) => {
    const r = await run([...cmd.filter((c): c is string => typeof c === 'string'), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit status/i);
    expect(r.stdout).toMatch(/\b0\b/);
    expect(r.stdout).toMatch(/\b2\b/);
  });
});

describe('a reader that goes away (`| head`) is not an error', () => {
  it('loglist show into a pipe closed by the reader exits 0 without a word on stderr', async () => {
    const child = spawn(process.execPath, [CLI, 'loglist', 'show'], {
      cwd: work,
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Close our end before the command writes (as `head` does once it has its lines): its writes
    // then fail with EPIPE.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});
