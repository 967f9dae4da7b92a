/**
 * @module cli/commands/jarm
 * `certvigil jarm HOST:PORT... [--starttls P] [--raw] [--json]`: JARM fingerprints of many targets
 * in parallel (probe/jarm-scan.ts). Kept apart from `mitm` so that it loads neither the store nor
 * the traceroute: a fingerprint from a shell should start as fast as the process can.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { parseHostPort } from '../../probe/connect.js';
import { jarmMany } from '../../probe/jarm-scan.js';
import { STARTTLS_PROTOCOLS } from '../../probe/types.js';
import type { StartTlsProtocol } from '../../probe/types.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { positiveInt, writeLine } from '../flags.js';
import type { Logger } from '../logger.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

export function registerJarm(program: Command, ctx: Ctx): void {
  program
    .command('jarm')
    .summary('JARM TLS server fingerprints (salesforce/jarm v1.0), many targets in parallel')
    .description(
      'Send the 10 JARM ClientHello probes to each HOST:PORT (concurrently) and print the fingerprint:\n' +
        '62 hex characters, 62 zeros when nothing answered with TLS. Identical to the reference jarm.py.\n\n' +
        'Output: "HOST:PORT JARM" per target, or with --json one object per line:\n' +
        '{"target", "address", "port", "jarm", "raw", "errors", "elapsedMs"}.\n' +
        'Exit status: 0 when every target was probed, 2 on a usage error.',
    )
    .argument('<targets...>', 'HOST:PORT, [IPv6]:PORT or HOST (port 443)')
    .option('--starttls <proto>', `STARTTLS first: ${STARTTLS_PROTOCOLS.join(', ')}`)
    .option('--sni <name>', 'server name to send (default: the host when it is a name)')
    .option('--concurrency <n>', 'targets probed at once', '16')
    .option('--probe-timeout <ms>', 'time limit of one probe', '2000')
    .option('--raw', 'also print the pre-hash string')
    .option('--json', 'one JSON object per target, one per line')
    .action(
      async (
        targets: string[],
        flags: {
          starttls?: string;
          sni?: string;
          concurrency: string;
          probeTimeout: string;
          raw?: boolean;
          json?: boolean;
        },
      ) => {
        if (flags.starttls !== undefined && !STARTTLS_PROTOCOLS.includes(flags.starttls as StartTlsProtocol))
          throw new CertvigilError('USAGE', `--starttls must be one of ${STARTTLS_PROTOCOLS.join(', ')}`);
        for (const t of targets) parseHostPort(t, 443);
        const results = await jarmMany(targets, {
          concurrency: positiveInt(flags.concurrency, '--concurrency'),
          timeoutMs: positiveInt(flags.probeTimeout, '--probe-timeout'),
          ...(flags.starttls ? { starttls: flags.starttls as StartTlsProtocol } : {}),
          ...(flags.sni ? { serverName: flags.sni } : {}),
        });
        for (const r of results) {
          ctx.logger.debug({ target: r.target, errors: r.errors }, 'jarm');
          if (flags.json) await writeLine(JSON.stringify(r));
          else await writeLine(`${r.target} ${r.jarm}${flags.raw ? `\n  ${r.raw}` : ''}`);
        }
        ctx.setExit(EXIT.OK);
      },
    );
}
