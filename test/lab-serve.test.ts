/**
 * `certvigil lab serve DIR`: a world kept with `lab --keep DIR` comes back on the same ports, so the
 * commands in DIR/commands.txt (the summary's "reproduce" lines) give the same verdicts again; it
 * stops cleanly on SIGTERM and refuses what is not a kept world, in one line.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCliTimed } from './cli-run.js';
import { KILL_MS, TEST_MS } from './lab-contract.js';

let work: string;
let keep: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-lab-serve-test-'));
  keep = join(work, 'world');
  const r = await runCliTimed(['lab', '--json', '--keep', keep], {
    env: { TMPDIR: work },
    timeoutMs: KILL_MS,
  });
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
}, TEST_MS);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Starts `lab serve DIR` and resolves once it says it serves (or rejects with what it printed). */
function startServe(dir: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'lab', 'serve', dir], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab serve did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('serving until Ctrl-C')) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lab serve exited ${code}: ${output}`));
    });
  });
}

/** The commands of one detector in DIR/commands.txt, as argv after `certvigil` (none needs quoting). */
async function commandsOf(detector: string): Promise<string[][]> {
  const text = await readFile(join(keep, 'commands.txt'), 'utf8');
  const block = text.split(`# ${detector}\n`)[1]?.split('\n\n')[0] ?? '';
  return block
    .split('\n')
    .filter((l) => l.startsWith('certvigil '))
    .map((l) => l.split(' ').slice(1));
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port }, () => s.close(() => resolve(true)));
  });
}

describe('certvigil lab serve DIR', () => {
  it(
    'serves the kept world on the same ports: the printed check endpoint commands give CRITICAL on the XMPP ports and OK on HTTPS again; SIGTERM stops it (exit 0) and frees the ports',
    async () => {
      const world = JSON.parse(await readFile(join(keep, 'world.json'), 'utf8')) as {
        dnsPort: number;
        frontPorts: { https: number };
      };
      const served = await startServe(keep);
      try {
        const pin = await commandsOf('external-check-pin');
        expect(pin).toHaveLength(2);
        for (const args of pin) {
          const r = await runCliTimed(args, { timeoutMs: 30_000 });
          expect(r.code, r.stdout).toBe(2);
          expect(r.stdout).toContain('pin-mismatch');
        }
        const [ok] = await commandsOf('external-check-other-ports-ok');
        const r = await runCliTimed(ok ?? [], { timeoutMs: 30_000 });
        expect(r.code, r.stdout).toBe(0);
        expect(ok?.join(' ')).toContain(`:${world.frontPorts.https}`);
        const [, check] = await commandsOf('jarm-change');
        const mitm = await runCliTimed(check ?? [], { timeoutMs: 30_000 });
        expect(mitm.code, mitm.stdout).toBe(2);
      } finally {
        const exit = new Promise<number | null>((resolve) => served.child.once('exit', resolve));
        served.child.kill('SIGTERM');
        expect(await exit).toBe(0);
      }
      expect(await portFree(world.dnsPort)).toBe(true);
      expect(await portFree(world.frontPorts.https)).toBe(true);
    },
    TEST_MS,
  );

  it('refuses a directory that is not a kept world: exit 2, one line on stderr', async () => {
    const r = await runCliTimed(['lab', 'serve', work], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/world\.json is missing or unreadable/);
  });

  it('refuses a damaged world.json in one line (exit 2)', async () => {
    const bad = join(work, 'bad');
    await runCliTimed(['lab', '--step', 'world', '--keep', bad, '--json'], { timeoutMs: KILL_MS });
    await writeFile(join(bad, 'world.json'), '{"version":1,"dnsPort":"53"}');
    const r = await runCliTimed(['lab', 'serve', bad], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not a lab world file/);
  });

  it('a port of the world taken by someone else: exit 2, one line naming it, nothing left running', async () => {
    const world = JSON.parse(await readFile(join(keep, 'world.json'), 'utf8')) as { ctLogPort: number };
    const squatter = net.createServer();
    await new Promise<void>((resolve) =>
      squatter.listen({ host: '127.0.0.1', port: world.ctLogPort }, resolve),
    );
    try {
      const r = await runCliTimed(['lab', 'serve', keep], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(2);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('certvigil:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(String(world.ctLogPort));
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
