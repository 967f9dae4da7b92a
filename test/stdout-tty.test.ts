/**
 * The stdout alert sink in a real process (issue 13): a readable block on a terminal (a pty from
 * util-linux `script`), JSON lines through a pipe, as before.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli-run.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
let work: string;
let config: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-tty-'));
  config = join(work, 'config.yaml');
  await writeFile(config, 'alerts:\n  stdout: true\n');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('stdout alerts', () => {
  // No skip: CI installs bsdutils (`script`); without it this fails and says so.
  it('on a terminal: a readable block, not JSON', () => {
    expect(hasScript, '`script` (Debian bsdutils) is needed to run the CLI on a terminal').toBe(true);
    const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const r = spawnSync(
      'script',
      ['-qec', `${quote(process.execPath)} ${quote(CLI)} notify test --config ${quote(config)}`, '/dev/null'],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.replace(/\r/g, '');
    expect(out).toMatch(/^== INFO test notification: /m);
    expect(out).toMatch(/^ {2}What to do: +No action needed/m);
    expect(out).not.toMatch(/^\{"type":"test"/m);
  });

  it('through a pipe: one JSON object per line, as before', async () => {
    const r = await runCli(['notify', 'test', '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    const [line] = r.stdout.trim().split('\n');
    expect(JSON.parse(line ?? '')).toMatchObject({ type: 'test', severity: 'info' });
  });
});
