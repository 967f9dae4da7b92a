/**
 * @module cli/lab/run-certvigil
 * The lab runs every detector as the user would: the certvigil binary itself, in a child process,
 * with the same flags the summary prints — so each line of the summary is a command that
 * reproduces what the lab saw (against a world kept with `--keep`).
 */
import { execFile } from 'node:child_process';

export interface CommandRun {
  /** The arguments after `certvigil`. */
  args: string[];
  /** Exit status; null when the process was killed (time-out). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command line to print: `certvigil …`, shell-quoted. */
  display: string;
  ms: number;
}

/** Bounds what a child may print into the lab's memory (the lab reads JSON summaries, not bulk). */
const MAX_OUTPUT_BYTES = 8 << 20;

/** POSIX shell quoting for display: plain words stay bare, the rest in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function displayCommand(args: readonly string[], prefix: readonly string[] = []): string {
  return [...prefix, 'certvigil', ...args].map((w, i) => (i < prefix.length ? w : shellQuote(w))).join(' ');
}

export interface RunOptions {
  timeoutMs?: number;
  /** Epoch milliseconds the run must end by (the lab's whole time budget); past it, nothing starts. */
  deadline?: number;
  /** Run inside another command, e.g. `['ip', 'netns', 'exec', NS]` (the client namespace). */
  wrapper?: string[];
}

/** The argv that starts this very binary again (bundle or tsc output alike). */
export function selfArgv(): string[] {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot find the certvigil entry script (process.argv[1])');
  return [process.execPath, script];
}

/** Runs a certvigil command; the lab passes one of these down, bound to its deadline. */
export type Runner = (args: string[], options?: RunOptions) => Promise<CommandRun>;

/** A runner whose every command ends by `deadline` (epoch ms): the lab's CONTRACT is 120 s overall. */
export function runnerUntil(deadline: number): Runner {
  return (args, options = {}) =>
    runCertvigil(args, { ...options, deadline: Math.min(deadline, options.deadline ?? Infinity) });
}

export function runCertvigil(args: string[], options: RunOptions = {}): Promise<CommandRun> {
  const [node, script] = selfArgv() as [string, string];
  const wrapper = options.wrapper ?? [];
  const argv = [...wrapper, node, script, ...args];
  const started = Date.now();
  const left = options.deadline === undefined ? Infinity : options.deadline - started;
  if (left < 1000)
    return Promise.resolve({
      args,
      code: null,
      stdout: '',
      stderr: "not started: the lab's time budget is spent\n",
      display: displayCommand(args, wrapper),
      ms: 0,
    });
  return new Promise((resolve) => {
    execFile(
      argv[0] as string,
      argv.slice(1),
      {
        encoding: 'utf8',
        timeout: Math.min(options.timeoutMs ?? 60_000, left),
        maxBuffer: MAX_OUTPUT_BYTES,
        // The children log JSON lines on stderr (not a terminal); colours off; no proxy for loopback.
        env: { ...process.env, NO_COLOR: '1', CERTVIGIL_LOG_LEVEL: 'warn', NO_PROXY: '*', no_proxy: '*' },
      },
      (err, stdout, stderr) => {
        let code: number | null = 0;
        if (err !== null) code = typeof err.code === 'number' ? err.code : null;
        resolve({
          args,
          code,
          stdout,
          stderr,
          display: displayCommand(args, wrapper),
          ms: Date.now() - started,
        });
      },
    );
  });
}

/** The JSON objects of a `--json` output, one per line; lines that are not JSON are skipped. */
export function jsonLinesOf(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as unknown);
    } catch {
      // Not JSON: a human line among JSON lines is ignored, never fatal.
    }
  }
  return out;
}
