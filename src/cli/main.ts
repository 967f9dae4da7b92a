#!/usr/bin/env node
/**
 * @module cli/main
 * The `certvigil` binary: subcommands, `--help` everywhere, `--version`, exit codes, logs on stderr.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { isCertvigilError } from '../errors.js';
import { registerCaaAudit } from './commands/caa-audit.js';
import { registerAcme } from './commands/acme.js';
import { registerCaaCheck } from './commands/caa-check.js';
import { registerCaaSuggest } from './commands/caa-suggest.js';
import { registerCerts } from './commands/certs.js';
import { registerCheck } from './commands/check.js';
import { registerCt } from './commands/ct.js';
import { registerMonitor } from './commands/monitor.js';
import { EXIT } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { makeLogger } from './logger.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

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

  const caa = program
    .command('caa')
    .description('CAA (RFC 8659, RFC 8657): who may issue certificates for a name');
  registerCaaCheck(caa, ctx);
  registerCaaSuggest(caa, ctx);
  registerCaaAudit(caa, ctx);

  registerCt(program, ctx);
  registerMonitor(program, ctx);
  registerCerts(program, ctx);
  registerAcme(program, ctx);
  registerCheck(program, ctx);

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
        process.stdout.write(
          `CERTVIGIL UNKNOWN - ${err.message.replace(/^error: /, '').replace(/[\r\n|]+/g, ' ')}\n`,
        );
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
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--log-level') i++;
    else if (!a.startsWith('-')) return a === 'check';
  }
  return false;
}

if (isPluginCommand(process.argv)) {
  // A plugin that dies of a bug must still say UNKNOWN (3), never exit 1 (WARNING) by accident.
  process.on('uncaughtException', (err) => {
    process.stdout.write(`CERTVIGIL UNKNOWN - internal error: ${String(err).replace(/[\r\n|]+/g, ' ')}\n`);
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
