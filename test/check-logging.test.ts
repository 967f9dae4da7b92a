/**
 * Issue 12, logs: JSON lines when stderr is not a terminal, human-readable lines with timestamps on
 * a terminal (a pseudo-terminal from util-linux `script`), no duplicate keys, and outside text that
 * cannot forge a line or drive the terminal. Child processes of the built logger and binary.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSafeText } from '../src/sanitize.js';
import { CLI } from './cli-run.js';

// The library module (tsc's dist/cli/logger.js); the binary (CLI) is the bundle, tested below.
const LOGGER = pathToFileURL(fileURLToPath(new URL('../dist/cli/logger.js', import.meta.url))).href;
const HOSTILE = 'CN=\u001b]0;owned\u0007\u001b[2J evil\u202etset.\r\n{"level":60,"msg":"forged"}\u2028x';

let work: string;
let child: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-logging-'));
  child = join(work, 'child.mjs');
  await writeFile(
    child,
    `import { createRequire } from 'node:module';
import { makeLogger } from ${JSON.stringify(LOGGER)};
const hostile = ${JSON.stringify(HOSTILE)};
const logger = makeLogger('info');
logger.warn({ name: 'www.example.test', subject: hostile, err: new Error('body: ' + hostile) }, 'certificate ' + hostile);
const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('pino-pretty'));
process.stdout.write(JSON.stringify({ prettyLoaded: loaded }) + '\\n');
`,
  );
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs a command on a pseudo-terminal; what it wrote to the terminal comes back on stdout. */
function onTerminal(command: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const line = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const rest = { ...process.env };
  delete rest.NO_COLOR;
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qec', line, '/dev/null'],
      { env: { ...rest, TERM: 'xterm', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const TIMESTAMP = /\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\]/;

describe('logs when stderr is not a terminal', () => {
  it('one JSON line, no duplicate keys, every string sanitised, pino-pretty not even loaded', async () => {
    const r = await exec(process.execPath, [child]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ prettyLoaded: false });
    const lines = r.stderr.split('\n');
    expect(lines).toHaveLength(2);
    const line = lines[0] ?? '';
    expect(isSafeText(line)).toBe(true);
    expect(line.match(/"name":/g)).toHaveLength(1);
    expect(line.match(/"app":/g)).toHaveLength(1);
    const parsed = JSON.parse(line) as Record<string, string>;
    expect(parsed.app).toBe('certvigil');
    expect(parsed.name).toBe('www.example.test');
    expect(parsed.msg).toBe(
      'certificate CN=\\x1B]0;owned\\x07\\x1B[2J evil\\u202Etset.\\x0D\\x0A{"level":60,"msg":"forged"}\\u2028x',
    );
  });
});

describe('logs on a terminal', () => {
  it('human-readable, with timestamps, hostile text escaped (NO_COLOR: no escape sequence at all)', async () => {
    const r = await onTerminal([process.execPath, child], { NO_COLOR: '1' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${TIMESTAMP.source} WARN: certificate CN=\\\\x1B\\]0;owned`));
    expect(r.stdout).toContain('"prettyLoaded":true');
    // A caller's `name` is a field, not shown as the logger's name in the header.
    expect(r.stdout).toContain('name_: "www.example.test"');
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('\u202e');
    expect(r.stdout).not.toMatch(/^\{"level"/m);
  });

  it('colours unless NO_COLOR, but never the hostile sequences', async () => {
    const r = await onTerminal([process.execPath, child]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(TIMESTAMP);
    expect(r.stdout).toMatch(new RegExp(`${'\u001b'}\\[\\d+mWARN`));
    expect(r.stdout).not.toContain('\u001b]0;');
    expect(r.stdout).not.toContain('\u001b[2J');
    expect(r.stdout).not.toContain('\u202e');
  });

  it('the binary logs pretty lines with timestamps on a terminal, JSON on a pipe', async () => {
    const args = ['--log-level', 'debug', 'jarm', '127.0.0.1:1', '--probe-timeout', '200ms'];
    const tty = await onTerminal([process.execPath, CLI, ...args], { NO_COLOR: '1' });
    expect(tty.code, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(new RegExp(`${TIMESTAMP.source} DEBUG: jarm`));
    const pipe = await exec(process.execPath, [CLI, ...args]);
    expect(pipe.code).toBe(0);
    const lines = pipe.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ app: 'certvigil', msg: 'jarm' });
  });
});
