/**
 * Runs the built `certvigil` binary as a user would, capturing stdout, stderr and the exit status:
 * the shipped entry point, i.e. package.json's `bin` (the esbuild bundle dist/bin/certvigil.js,
 * scripts/bundle.mjs), not tsc's unbundled dist/cli/main.js. `npm test` builds before vitest.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { bin: { certvigil: string } };
/** The file `npm install -g` links as `certvigil`. */
export const CLI = fileURLToPath(new URL(pkg.bin.certvigil, ROOT));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return run(args, env);
}

/** `runCli` with `input` written to the binary's stdin (then closed). */
export function runCliWithStdin(
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return run(args, env, input);
}

function run(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Parses JSON-lines output, failing loudly on any line that is not a JSON object. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface TimedCliResult extends CliResult {
  /** Wall time of the whole run, in milliseconds. */
  ms: number;
}

/**
 * Like `runCli`, with its own time-out (long runs such as `certvigil lab`) and an optional
 * `wrapper` command the binary runs under (e.g. `setpriv --reuid=65534 … /usr/bin/env VAR=…`); a
 * killed run reads as code -1. Measures the wall time.
 */
export function runCliTimed(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; wrapper?: string[] },
): Promise<TimedCliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const argv = [...(options.wrapper ?? []), process.execPath, CLI, ...args];
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      argv[0] as string,
      argv.slice(1),
      {
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        timeout: options.timeoutMs,
        maxBuffer: 16 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}
