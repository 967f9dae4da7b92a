#!/usr/bin/env node
/**
 * @module cli/main
 * The `certvigil` binary: subcommands, `--help` everywhere, `--version`, exit codes, logs on stderr.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { isCertvigilError } from '../errors.js';
import { unknownStatusLine } from '../probe/plugin-output.js';
import { EXIT } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { makeLogger } from './logger.js';
import type { Logger } from './logger.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}
type Registrar = (program: Command, ctx: Ctx) => void;

/**
 * Every top-level command and how to load it. Only the command being run is imported (all of them
 * for `--help` or an unknown command): a plugin that Nagios starts every few minutes for every
 * service should not pay for loading the CT client, the mailer and the database drivers of the
 * other commands (startup went from about 0.4 s to the cost of its own imports).
 */
const COMMANDS: readonly (readonly [readonly string[], () => Promise<Registrar>])[] = [
  [
    ['caa'],
    async () => {
      const [check, suggest, audit] = await Promise.all([
        import('./commands/caa-check.js'),
        import('./commands/caa-suggest.js'),
        import('./commands/caa-audit.js'),
      ]);
      return (program, ctx) => {
        const caa = program
          .command('caa')
          .description('CAA (RFC 8659, RFC 8657): who may issue certificates for a name');
        check.registerCaaCheck(caa, ctx);
        suggest.registerCaaSuggest(caa, ctx);
        audit.registerCaaAudit(caa, ctx);
      };
    },
  ],
  [['ct'], async () => (await import('./commands/ct.js')).registerCt],
  [['monitor'], async () => (await import('./commands/monitor.js')).registerMonitor],
  // `certs` also registers the top-level `inventory` and `notify` commands.
  [['certs', 'inventory', 'notify'], async () => (await import('./commands/certs.js')).registerCerts],
  [['acme'], async () => (await import('./commands/acme.js')).registerAcme],
  [['check'], async () => (await import('./commands/check.js')).registerCheck],
  [['jarm'], async () => (await import('./commands/jarm.js')).registerJarm],
  [['mitm'], async () => (await import('./commands/mitm.js')).registerMitm],
  [['iodef'], async () => (await import('./commands/iodef.js')).registerIodef],
];

/** The first positional argument: the top-level command (skipping the global --log-level value). */
function firstPositional(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--log-level') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

export async function run(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.OK;
  const program = new Command('certvigil')
    .description('Keeps vigil over who may get a TLS certificate for your domains (CAA) and who did (CT).')
    .version(pkg.version, '-V, --version')
    .option(
      '--log-level <level>',
      'stderr log level: trace, debug, info, warn, error',
      process.env.CERTVIGIL_LOG_LEVEL ?? 'warn',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  // Descriptions are written with their own line breaks; wrap only what exceeds 120 columns.
  program.configureHelp({ helpWidth: 120 });

  const logger = makeLogger(process.env.CERTVIGIL_LOG_LEVEL ?? 'warn');
  program.hook('preAction', (cmd) => {
    logger.level = (cmd.optsWithGlobals() as { logLevel?: string }).logLevel ?? logger.level;
  });
  const ctx = { logger, setExit: (code: ExitCode) => (exitCode = code) };

  const wanted = firstPositional(argv);
  const selected = COMMANDS.filter(([names]) => wanted !== undefined && names.includes(wanted));
  const registrars = await Promise.all((selected.length > 0 ? selected : COMMANDS).map(([, load]) => load()));
  for (const register of registrars) register(program, ctx);

  // Every (sub)command exits through exitOverride so that usage errors map to EXIT.ERROR.
  const overrideAll = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(overrideAll);
  };
  overrideAll(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      if (err.exitCode === 0) return EXIT.OK;
      // A plugin's usage error is UNKNOWN (3), with a status line Nagios/Icinga can show.
      if (isPluginCommand(argv)) {
        process.stdout.write(unknownStatusLine(err.message.replace(/^error: /, '')));
        return EXIT.UNKNOWN;
      }
      return EXIT.ERROR;
    }
    const failure = isPluginCommand(argv) ? EXIT.UNKNOWN : EXIT.ERROR;
    if (isCertvigilError(err)) {
      process.stderr.write(`certvigil: ${err.message}\n`);
      return failure;
    }
    process.stderr.write(
      `certvigil: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return failure;
  }
  return exitCode;
}

/** `certvigil [--log-level L] check …`: the commands that follow the monitoring-plugins exit codes. */
function isPluginCommand(argv: string[]): boolean {
  return firstPositional(argv) === 'check';
}

if (isPluginCommand(process.argv)) {
  // A plugin that dies of a bug must still say UNKNOWN (3), never exit 1 (WARNING) by accident.
  process.on('uncaughtException', (err) => {
    process.stdout.write(unknownStatusLine(`internal error: ${String(err)}`));
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT.UNKNOWN);
  });
}

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`certvigil: ${String(err)}\n`);
    process.exitCode = isPluginCommand(process.argv) ? EXIT.UNKNOWN : EXIT.ERROR;
  },
);
