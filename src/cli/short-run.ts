/**
 * @module cli/short-run
 * Commands that are done when their action returns (`check endpoint`, `check endpoints`, `jarm`):
 * a plugin that Nagios/Icinga starts every few minutes for every service, and a fingerprint from a
 * shell. They exit as soon as their output is flushed, and their WebAssembly is not optimised.
 *
 * Why (measured on the 2-core bench machine, `check endpoint` on loopback, Node 20.20): the CT
 * client's HTTP library (undici) parses HTTP with llhttp compiled to WebAssembly. V8 compiles it
 * with its baseline compiler (Liftoff) and then re-compiles the functions that ran with TurboFan
 * on a background thread (tier-up). Before exiting, Node waits for that background job: 60–110 ms
 * of wall time after the status line was printed, with nothing else left in the event loop, and
 * ~0.1 s of CPU (perf: the one busy thread in the process's last 70 ms was in
 * v8::internal::compiler; exiting at once alone did not help, the exit waits for the job too). A
 * run that parses two or three HTTP responses never gains from the optimised code.
 */

/** The words of a command line that are not options (skipping the global --log-level's value). */
export function positionals(argv: readonly string[]): string[] {
  const out: string[] = [];
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--log-level') i++;
    else if (!a.startsWith('-')) out.push(a);
  }
  return out;
}

/**
 * Whether the command exits as soon as its action has returned and its output is flushed. Only
 * commands whose action awaits all of its work (connections closed, nothing written after the
 * result) are listed; `--help` and usage errors of them end the same way.
 */
export function endsWithItsAction(argv: readonly string[]): boolean {
  const [command, sub] = positionals(argv);
  if (command === 'jarm') return true;
  return command === 'check' && (sub === 'endpoint' || sub === 'endpoints');
}

/**
 * Marks the run as short for scripts/bundle.mjs: when undici has loaded (the CT client's first
 * request), the bundle makes V8 compile llhttp's WebAssembly with Liftoff alone, no TurboFan
 * tier-up (see the module comment; why there and not here: bundle.mjs, `AFTER_LOAD`). The code
 * computes the same results either way. Unbundled (tsc's dist/cli/main.js) the mark does nothing.
 */
export function markShortRun(): void {
  (globalThis as Record<symbol, unknown>)[LIFTOFF_ONLY] = true;
}

/** The mark bundle.mjs's undici wrapper reads. */
export const LIFTOFF_ONLY = Symbol.for('certvigil.liftoff-only');

/** Resolves once everything written to `stream` so far has been handed to the operating system. */
function flushed(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    // A write's callback runs after the writes queued before it; an error (EPIPE: the reader went
    // away, handled by main.ts) still ends the wait.
    stream.write('', () => resolve());
  });
}

/**
 * Exits with `code` once stdout and stderr are flushed, without waiting for the event loop to
 * drain (see the module comment). Logs go to stderr synchronously (cli/logger), so none is lost.
 */
export async function exitWhenFlushed(code: number): Promise<void> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
