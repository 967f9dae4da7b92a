/**
 * @module cli/program
 * The `certvigil` program for a table of commands: `--help` everywhere, `--version`, exit codes,
 * logs on stderr. `cli/main` runs it with every command (the ESM bundle and tsc's dist/cli/main.js);
 * the code-cached bundles of the short runs (`cli/short-check`, `cli/short-jarm`, see
 * `cli/code-cache`) with their one command.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../package-files.js';
// The unbundled dist/cli/main.js loads what it imports; probe's index.ts would load every probe and
// its packages for `--version` (test/bundle.test.ts).
// eslint-disable-next-line certvigil/no-deep-imports -- start path: probe/index.ts loads every probe
import { unknownStatusLine } from '../probe/plugin-output.js';
import { describeFailure, EXIT, oneLine } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, makeLogger, parseLogLevel } from './logger.js';
import type { Logger, LogLevel } from './logger.js';
import { endsWithItsAction, exitWhenFlushed, markShortRun, positionals } from './short-run.js';

export interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}
export type Registrar = (program: Command, ctx: Ctx) => void;

/** Top-level commands: their names and how to load each one's registrar. */
export type CommandTable = readonly (readonly [readonly string[], () => Promise<Registrar>])[];

/** The first positional argument: the top-level command (skipping the global --log-level value). */
function firstPositional(argv: string[]): string | undefined {
  return positionals(argv)[0];
}

/**
 * The commands to register for this command line: the one named, else none for a bare
 * `--version` (commander prints it before looking at commands; loading all eleven cost a
 * `certvigil --version` 0.3 s), else all (`--help` lists them; an unknown name lists them too).
 */
function commandsToLoad(argv: string[], all: CommandTable): CommandTable {
  const wanted = firstPositional(argv);
  const selected = all.filter(([names]) => wanted !== undefined && names.includes(wanted));
  if (selected.length > 0) return selected;
  const args = argv.slice(2);
  const end = args.indexOf('--');
  const options = end < 0 ? args : args.slice(0, end);
  const versionOnly =
    wanted === undefined &&
    options.some((a) => a === '-V' || a === '--version') &&
    !options.some((a) => a === '-h' || a === '--help');
  return versionOnly ? [] : all;
}

/** `--log-level X` / `--log-level=X` anywhere on the line (the last wins, as commander does), else undefined. */
function logLevelInArgv(argv: string[]): string | undefined {
  let found: string | undefined;
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    if (a === '--log-level') found = args[++i];
    else if (a.startsWith('--log-level=')) found = a.slice('--log-level='.length);
  }
  return found;
}

/** The level the run starts with: `--log-level` if valid, else `$CERTVIGIL_LOG_LEVEL` if valid, else warn. */
function initialLogLevel(argv: string[]): LogLevel {
  for (const candidate of [logLevelInArgv(argv), process.env.CERTVIGIL_LOG_LEVEL]) {
    if (candidate === undefined) continue;
    try {
      return parseLogLevel(candidate);
    } catch {
      // reported as a usage error by the option's parser (or by the environment check)
    }
  }
  return DEFAULT_LOG_LEVEL;
}

const EXIT_STATUS_HELP = `
Exit status (every command states its own in its --help):
  0  success: everything checked and fine
  1  a negative finding (caa check: a name denied; monitor --once: a log misbehaved; …)
  2  could not decide: a lookup failed, bad input, or a usage error (one line on stderr)
  \`check\` commands follow the monitoring-plugins convention instead:
  0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not check, including usage errors)

Logs go to stderr: human-readable with timestamps on a terminal, JSON lines otherwise
(--log-level or $CERTVIGIL_LOG_LEVEL: ${LOG_LEVELS.join(', ')}; default ${DEFAULT_LOG_LEVEL}).`;

export async function run(argv: string[], commands: CommandTable): Promise<ExitCode> {
  if (endsWithItsAction(argv)) markShortRun();
  const plugin = isPluginCommand(argv);
  /** A usage or input error: one line on stderr, or under `check` one UNKNOWN status line on stdout. */
  const usageFailure = (message: string): ExitCode => {
    if (plugin) {
      process.stdout.write(unknownStatusLine(oneLine(message)));
      return EXIT.UNKNOWN;
    }
    process.stderr.write(`certvigil: ${oneLine(message)}\n`);
    return EXIT.ERROR;
  };

  // Checked before anything else, so a bad environment is a usage error, not a crash in pino.
  const envLevel = process.env.CERTVIGIL_LOG_LEVEL;
  if (envLevel !== undefined && envLevel !== '') {
    try {
      parseLogLevel(envLevel, '$CERTVIGIL_LOG_LEVEL');
    } catch (e) {
      return usageFailure((e as Error).message);
    }
  }
  const logger = makeLogger(initialLogLevel(argv));

  let exitCode: ExitCode = EXIT.OK;
  const program = new Command('certvigil')
    .description('Keeps vigil over who may get a TLS certificate for your domains (CAA) and who did (CT).')
    .version(packageVersion(), '-V, --version')
    .option(
      '--log-level <level>',
      `stderr log level: ${LOG_LEVELS.join(', ')}`,
      (value: string) => parseLogLevel(value),
      envLevel ? parseLogLevel(envLevel) : DEFAULT_LOG_LEVEL,
    )
    .addHelpText('after', EXIT_STATUS_HELP)
    .exitOverride();
  // Commander's own error text is replaced by one line of ours (below); help still goes out.
  program.configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => undefined });
  // Descriptions are written with their own line breaks; wrap only what exceeds 120 columns.
  program.configureHelp({ helpWidth: 120 });

  program.hook('preAction', (cmd) => {
    logger.level = (cmd.optsWithGlobals() as { logLevel?: LogLevel }).logLevel ?? logger.level;
  });
  const ctx = { logger, setExit: (code: ExitCode) => (exitCode = code) };

  const registrars = await Promise.all(commandsToLoad(argv, commands).map(([, load]) => load()));
  for (const register of registrars) register(program, ctx);

  // Every (sub)command exits through exitOverride so that usage errors map to EXIT.ERROR, and
  // prints errors only through us.
  const overrideAll = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => undefined });
    cmd.commands.forEach(overrideAll);
  };
  overrideAll(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      if (err.exitCode === 0) return EXIT.OK;
      // A command with subcommands but none given (`certvigil`, `certvigil check`): commander has
      // printed its help on stderr.
      if (err.code === 'commander.help') {
        if (plugin) {
          process.stdout.write(
            unknownStatusLine('no check given: endpoint, endpoints or mitm (help on stderr)'),
          );
          return EXIT.UNKNOWN;
        }
        return EXIT.ERROR;
      }
      return usageFailure(`${err.message.replace(/^error: /, '')} (run with --help for usage)`);
    }
    return reportFailure(err, logger.isLevelEnabled('debug'));
  }
  return exitCode;
}

/** Writes a failure (see describeFailure) and returns its exit status. */
function reportFailure(err: unknown, debug: boolean): ExitCode {
  const report = describeFailure(err, { plugin: isPluginCommand(process.argv), debug });
  process.stdout.write(report.stdout);
  process.stderr.write(report.stderr);
  return report.code;
}

/** `certvigil [--log-level L] check …`: the commands that follow the monitoring-plugins exit codes. */
function isPluginCommand(argv: string[]): boolean {
  return firstPositional(argv) === 'check';
}

/** Whether `--log-level debug|trace` (or the environment) asked for stacks. */
function debugWanted(): boolean {
  const level = initialLogLevel(process.argv);
  return level === 'debug' || level === 'trace';
}

/** Runs the program on this process's command line: crash handlers, then the command, then its exit status. */
export function startCli(commands: CommandTable): void {
  // A crash outside the command's promise (an 'error' event, a timer) is still one line, and under
  // `check` still UNKNOWN (3), never exit 1 (WARNING) by accident.
  const crash = (err: unknown): void => {
    process.exit(reportFailure(err, debugWanted()));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  // `certvigil certs list | head`: the reader went away. That is not an error of ours (nor a crash to
  // report); stop writing and exit as a Unix filter does, quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    crash(err);
  });

  // A short run (cli/short-run) exits once its output is flushed; any other command when the event
  // loop drains (a server or a daemon keeps it alive on purpose).
  const shortRun = endsWithItsAction(process.argv);
  run(process.argv, commands).then(
    (code) => {
      process.exitCode = code;
      if (shortRun) return exitWhenFlushed(code);
    },
    (err: unknown) => {
      const code = reportFailure(err, debugWanted());
      process.exitCode = code;
      if (shortRun) return exitWhenFlushed(code);
    },
  );
}
