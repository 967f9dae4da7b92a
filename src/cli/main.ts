#!/usr/bin/env node
/**
 * @module cli/main
 * The `certvigil` binary with every command (cli/program does the rest). Bundled, it is reached
 * through cli/bin unless a short run has a code-cached bundle of its own (cli/code-cache).
 */
import type { CommandTable } from './program.js';
import { startCli } from './program.js';

/**
 * Every top-level command and how to load it. Only the command being run is imported (all of them
 * for `--help` or an unknown command): a plugin that Nagios starts every few minutes for every
 * service should not pay for loading the CT client, the mailer and the database drivers of the
 * other commands (loading every command costs about 1 s more than one: `--help` 1.6 s against
 * `check caa --help` 0.6 s, built binary, 2-vCPU AMD EPYC VM, Node 20.20).
 */
const COMMANDS: CommandTable = [
  [
    ['caa'],
    async () => {
      const [check, suggest, evaluate, audit] = await Promise.all([
        import('./commands/caa-check.js'),
        import('./commands/caa-suggest.js'),
        import('./commands/caa-evaluate.js'),
        import('./commands/caa-audit.js'),
      ]);
      return (program, ctx) => {
        const caa = program
          .command('caa')
          .description('CAA (RFC 8659, RFC 8657): who may issue certificates for a name');
        check.registerCaaCheck(caa, ctx);
        suggest.registerCaaSuggest(caa, ctx);
        evaluate.registerCaaEvaluate(caa, ctx);
        audit.registerCaaAudit(caa, ctx);
      };
    },
  ],
  [['ct'], async () => (await import('./commands/ct.js')).registerCt],
  [['monitor'], async () => (await import('./commands/monitor.js')).registerMonitor],
  [['certs'], async () => (await import('./commands/certs.js')).registerCerts],
  [['backfill'], async () => (await import('./commands/backfill.js')).registerBackfill],
  [['inventory'], async () => (await import('./commands/inventory.js')).registerInventory],
  [['notify'], async () => (await import('./commands/notify.js')).registerNotify],
  [['acme'], async () => (await import('./commands/acme.js')).registerAcme],
  [['check'], async () => (await import('./commands/check.js')).registerCheck],
  [['jarm'], async () => (await import('./commands/jarm.js')).registerJarm],
  [['mitm'], async () => (await import('./commands/mitm.js')).registerMitm],
  [['iodef'], async () => (await import('./commands/iodef.js')).registerIodef],
  [['loglist'], async () => (await import('./commands/loglist.js')).registerLoglist],
  [['status'], async () => (await import('./commands/status.js')).registerStatus],
  [['serve'], async () => (await import('./commands/serve.js')).registerServe],
  [['token'], async () => (await import('./commands/token.js')).registerToken],
  [['user'], async () => (await import('./commands/user.js')).registerUser],
  [['lab'], async () => (await import('./commands/lab.js')).registerLab],
];

startCli(COMMANDS);
