/**
 * The shipped binary is the esbuild bundle (scripts/bundle.mjs, package.json `bin`): it exists after
 * `npm run build`, starts, finds package.json and the shipped data/ from wherever it is installed,
 * and its startup path loads only what the command needs. Not timed: bench/check-endpoint.ts
 * measures the speed.
 */
import { execFile } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli-run.js';
import type { CliResult } from './cli-run.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'certvigil-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(
  file: string,
  args: string[],
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, file, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Runs `file args` under a module resolve hook and returns every URL Node resolved (ESM imports,
 * and the `require`s of CommonJS packages, which pass through the same hook).
 */
async function resolvedUrls(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const dir = mkdtempSync(join(work, 'trace-'));
  const out = join(dir, 'resolved.txt');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      'export async function resolve(spec, ctx, next) {\n' +
      '  const r = await next(spec, ctx);\n' +
      `  appendFileSync(${JSON.stringify(out)}, r.url + '\\n');\n` +
      '  return r;\n' +
      '}\n',
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
  );
  writeFileSync(out, '');
  const r = await run(file, args, ['--import', join(dir, 'register.mjs')], env);
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** The npm packages among resolved URLs (`node_modules/<name>/…`). */
function packages(urls: string[]): string[] {
  const names = urls.flatMap((u) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    return m?.[1] ? [m[1]] : [];
  });
  return [...new Set(names)].sort();
}

describe('the shipped binary', () => {
  it('is the bundle package.json names as bin, executable, with a node shebang', () => {
    expect(pkg.bin.certvigil).toBe('dist/bin/certvigil.js');
    expect(CLI).toBe(join(ROOT, 'dist/bin/certvigil.js'));
    accessSync(CLI, constants.X_OK);
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints its version and its help', async () => {
    const version = await runCli(['--version']);
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['caa', 'ct', 'monitor', 'check', 'jarm', 'iodef', 'loglist', 'status'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const endpointHelp = await runCli(['check', 'endpoint', '--help']);
    expect(endpointHelp.code).toBe(0);
    expect(endpointHelp.stdout).toContain('Usage: certvigil check endpoint');
  });

  it('reads the shipped data/ snapshot offline (loglist show, nothing cached)', async () => {
    const r = await runCli(['loglist', 'show', '--cache-dir', join(work, 'no-cache'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as { origin: string; parts: { signatureVerified: boolean }[] };
    expect(shown.origin).toBe('snapshot');
    expect(shown.parts[0]?.signatureVerified).toBe(true);
  });

  // Paths computed relative to a source file's own URL ('../../data/') break in a bundle, where
  // all modules share the bundle's URL. Installed elsewhere and at another depth, the bundle must
  // still find its own package.json (version) and data/ (snapshot).
  it('finds package.json and data/ wherever it is installed, at any depth', async () => {
    const prefix = join(work, 'prefix/lib/node_modules/certvigil');
    cpSync(join(ROOT, 'dist/bin'), join(prefix, 'some/deeper/bin'), { recursive: true });
    cpSync(join(ROOT, 'data'), join(prefix, 'data'), { recursive: true });
    writeFileSync(
      join(prefix, 'package.json'),
      JSON.stringify({ name: 'certvigil', version: '9.8.7-moved', type: 'module' }),
    );
    // External packages (better-sqlite3, pino-pretty) resolve from here, as in an installed copy.
    symlinkSync(join(ROOT, 'node_modules'), join(prefix, 'node_modules'));
    const moved = join(prefix, 'some/deeper/bin/certvigil.js');
    expect(await run(moved, ['--version'])).toEqual({ code: 0, stdout: '9.8.7-moved\n', stderr: '' });
    const r = await run(moved, ['loglist', 'show', '--cache-dir', join(work, 'no-cache-2'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { origin: string }).origin).toBe('snapshot');
  });
});

// `await import('socks')` of a CommonJS package: Node gives its exports as named exports, esbuild
// only as `default`, unless scripts/bundle.mjs's cjs-named-exports plugin re-exports them. Without
// it the bundle's `const { SocksClient } = await import('socks')` was undefined (SOCKS5 proxies)
// and the CT client's undici too ("GET …: cancelled").
describe('CommonJS packages imported lazily keep their named exports in the bundle', () => {
  const lazy = new Set<string>();
  for (const file of readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const text = readFileSync(join(ROOT, 'src', file), 'utf8');
    for (const m of text.matchAll(/await import\('([a-z@][^'./][^']*)'\)|import\('([a-z@][^'./][^']*)'\)/g)) {
      const name = m[1] ?? m[2];
      if (name && !name.startsWith('node:')) lazy.add(name);
    }
  }

  it('finds the lazily imported packages', () => {
    expect([...lazy]).toEqual(expect.arrayContaining(['socks', 'undici', 'nodemailer']));
  });

  it.each([...lazy].sort())('%s: the same names as under Node', async (name) => {
    const chunk = readdirSync(join(ROOT, 'dist/bin/chunks')).find((c) => c.startsWith(`${name}-`));
    expect(chunk, `dist/bin/chunks/${name}-*.js`).toBeDefined();
    const bundled = Object.keys((await import(join(ROOT, 'dist/bin/chunks', chunk ?? ''))) as object);
    const native = Object.keys((await import(name)) as object).filter((k) => k !== '__esModule');
    expect(bundled).toEqual(expect.arrayContaining(native));
  });
});

describe("zod's messages: English only in the bundle (scripts/bundle.mjs, zod-english-only)", () => {
  it('carries no other language, and validation messages read as unbundled', async () => {
    const chunks = readdirSync(join(ROOT, 'dist/bin/chunks')).map((c) =>
      readFileSync(join(ROOT, 'dist/bin/chunks', c), 'utf8'),
    );
    expect(chunks.some((text) => text.includes('Ungültige Eingabe'))).toBe(false);
    const config = join(work, 'bad-config.yaml');
    writeFileSync(config, 'concurrency: "x"\nwatchlist: 5\n');
    const args = ['monitor', '--once', '--config', config, '--state-dir', join(work, 'never-made')];
    const bundled = await runCli(args);
    expect(bundled.stderr).toMatch(/expected string.*expected number|expected number.*expected string/);
    expect(bundled).toEqual(await run(join(ROOT, 'dist/cli/main.js'), args));
  });
});

describe('the startup path loads only what the command needs', () => {
  // The ESM program (a short run takes its code-cached bundle unless told otherwise, below).
  it('the bundle: nothing from node_modules, and no chunk of another command', async () => {
    const urls = await resolvedUrls(CLI, ['check', 'endpoint', '--help'], { CERTVIGIL_CODE_CACHE: 'off' });
    expect(packages(urls)).toEqual([]);
    const chunks = [...new Set(urls.filter((u) => u.includes('/dist/bin/chunks/')).map((u) => basename(u)))];
    const all = readdirSync(join(ROOT, 'dist/bin/chunks'));
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.length).toBeLessThan(all.length);
    // esbuild names a command's chunk after its module (src/cli/commands/iodef.ts → iodef-HASH.js).
    for (const other of ['iodef', 'monitor', 'caa-audit', 'acme', 'certs', 'ct', 'loglist', 'status'])
      expect(chunks.filter((c) => c.startsWith(`${other}-`))).toEqual([]);
    expect(all.some((c) => c.startsWith('iodef-'))).toBe(true);
  });

  // The same import graph, unbundled (tsc's dist/cli/main.js): here each package shows by name.
  // Mail, PostgreSQL, SQLite and the terminal log formatter are for other commands (or a terminal).
  const HEAVY = ['nodemailer', 'mailparser', 'smtp-server', 'postgres', 'better-sqlite3', 'pino-pretty'];
  it('check endpoint --help loads none of the packages only other commands use', async () => {
    const loaded = packages(
      await resolvedUrls(join(ROOT, 'dist/cli/main.js'), ['check', 'endpoint', '--help']),
    );
    expect(loaded).toContain('commander');
    expect(loaded.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('--version loads no command at all: commander and pino only', async () => {
    const urls = await resolvedUrls(join(ROOT, 'dist/cli/main.js'), ['--version']);
    expect(packages(urls)).toEqual(['commander', 'pino']);
    expect(urls.filter((u) => u.includes('/dist/cli/commands/'))).toEqual([]);
  });
});

// src/cli/code-cache.ts: `check endpoint`, `check endpoints` and `jarm` start from a CommonJS bundle
// of their own compiled with a V8 code cache made by the build (dist/bin/short/NAME.cjs + .cache).
describe('short runs start from a code-cached bundle', () => {
  const SHORT = join(ROOT, 'dist/bin/short');

  it('ships one per short run, and this Node accepts each cache', async () => {
    const script = [
      "import { readFileSync } from 'node:fs';",
      "import { Script } from 'node:vm';",
      `import { cacheFileFor, cacheFits, wrapBundle } from ${JSON.stringify(join(ROOT, 'dist/cli/code-cache.js'))};`,
      "for (const name of ['check', 'jarm']) {",
      `  const file = ${JSON.stringify(SHORT)} + '/' + name + '.cjs';`,
      '  const cachedData = readFileSync(cacheFileFor(file));',
      "  const s = new Script(wrapBundle(readFileSync(file, 'latin1')), { cachedData });",
      "  console.log(name, s.cachedDataRejected ? 'rejected' : 'accepted', cacheFits(cachedData) ? 'fits' : 'does not fit');",
      '}',
    ].join('\n');
    const r = await run('--input-type=module', ['-e', script]);
    expect(r.stdout, r.stderr).toBe('check accepted fits\njarm accepted fits\n');
  });

  // V8 would refuse a cache made without the flag and compile the whole bundle from source.
  it('takes the ESM program under V8 flags the cache was not made with', async () => {
    const flags = { NODE_OPTIONS: '--max-old-space-size=512' };
    const urls = await resolvedUrls(CLI, ['check', 'endpoint', '--help'], flags);
    expect(urls.filter((u) => u.includes('/dist/bin/chunks/main-'))).toHaveLength(1);
    expect(await run(CLI, ['jarm', '--help'], [], flags)).toEqual(await runCli(['jarm', '--help']));
  });

  it('loads none of the ESM program, and prints what the ESM program prints', async () => {
    const urls = await resolvedUrls(CLI, ['check', 'endpoint', '--help']);
    expect(urls.filter((u) => u.includes('/dist/bin/chunks/main-'))).toEqual([]);
    expect(packages(urls)).toEqual([]);
    const off = { CERTVIGIL_CODE_CACHE: 'off' };
    for (const args of [
      ['check', 'endpoint', '--help'],
      ['jarm', '--help'],
      // Nothing listens on port 9 of loopback: CRITICAL (exit 2), zeros for JARM.
      ['check', 'endpoint', '127.0.0.1:9', '--sni', 'www.example.org', '-t', '5', '--ct-policy', 'none'],
      ['jarm', '127.0.0.1:9', '--json'],
      ['check', 'endpoint', 'bad target:x'],
    ]) {
      const [cached, esm] = await Promise.all([run(CLI, args), run(CLI, args, [], off)]);
      const stable = (r: CliResult): CliResult => ({
        ...r,
        stdout: r.stdout.replace(/"elapsedMs":[\d.]+/g, '"elapsedMs":0').replace(/=[\d.]+s;/g, '=0s;'),
        stderr: r.stderr.replace(/"time":\d+/g, '"time":0'),
      });
      expect(stable(cached), args.join(' ')).toEqual(stable(esm));
    }
  });

  it('writes nothing: the bundles and caches are as the build left them', async () => {
    const before = readdirSync(SHORT).map((f) => [f, readFileSync(join(SHORT, f)).toString('base64')]);
    await runCli(['check', 'endpoint', '127.0.0.1:9', '-t', '5', '--ct-policy', 'none']);
    await runCli(['jarm', '127.0.0.1:9']);
    const after = readdirSync(SHORT).map((f) => [f, readFileSync(join(SHORT, f)).toString('base64')]);
    expect(after).toEqual(before);
  });
});
