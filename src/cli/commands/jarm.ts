/**
 * @module cli/commands/jarm
 * `certvigil jarm HOST:PORT... [--starttls P] [--raw] [--json]`: JARM fingerprints of many targets
 * in parallel (probe/jarm-scan.ts). Kept apart from `mitm` so that it loads neither the store nor
 * the traceroute: a fingerprint from a shell should start as fast as the process can.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { chooseProxy, jarmMany, parseHost, parseHostPort, STARTTLS_PROTOCOLS } from '../../probe/index.js';
import type { StartTlsProtocol } from '../../probe/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { parseDuration, positiveInt, writeLine } from '../flags.js';
import { sanitizeDeep } from '../../sanitize.js';
import type { Logger } from '../logger.js';

const MAX_CONCURRENCY = 256;

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
        'Through a proxy that resolves names (http://, socks5h://; --proxy or the environment) "address" is the name.\n' +
        'Exit status: 0 every target was probed (62 zeros: no TLS answer there); 2 a usage error (a bad\n' +
        'target such as "[::1" or "host:99999", a bad option value): one line on stderr, nothing probed.',
    )
    .argument('<targets...>', 'HOST:PORT, [IPv6]:PORT or HOST (port 443)')
    .option('--starttls <proto>', `STARTTLS first: ${STARTTLS_PROTOCOLS.join(', ')}`)
    .option('--sni <name>', 'server name to send (default: the host when it is a name)')
    .option(
      '--proxy <url>',
      'probe through a proxy: http://[USER:PASS@]HOST:PORT (CONNECT), socks5://, socks5h:// ' +
        '(default: $https_proxy, else $all_proxy; with --starttls: $all_proxy; minus $NO_PROXY)',
    )
    .option('--no-proxy', 'ignore the proxy environment variables (connect directly)')
    .option('--concurrency <n>', `targets probed at once (1-${MAX_CONCURRENCY})`, '16')
    .option(
      '--probe-timeout <duration>',
      'time limit of one probe (10ms-5m; a bare number is milliseconds)',
      '2000',
    )
    .option('--raw', 'also print the pre-hash string')
    .option('--json', 'one JSON object per target, one per line')
    .action(
      async (
        targets: string[],
        flags: {
          starttls?: string;
          sni?: string;
          /** false: --no-proxy */
          proxy?: string | false;
          concurrency: string;
          probeTimeout: string;
          raw?: boolean;
          json?: boolean;
        },
      ) => {
        // Every argument is checked before the first probe goes out.
        if (flags.starttls !== undefined && !STARTTLS_PROTOCOLS.includes(flags.starttls as StartTlsProtocol))
          throw new CertvigilError('USAGE', `--starttls must be one of ${STARTTLS_PROTOCOLS.join(', ')}`);
        const proxyFor = (host: string, port: number) =>
          chooseProxy(
            { host, port, starttls: flags.starttls !== undefined },
            {
              ...(typeof flags.proxy === 'string' ? { flag: flags.proxy } : {}),
              noProxy: flags.proxy === false,
            },
          );
        for (const t of targets) {
          const { host, port } = parseHostPort(t, 443);
          proxyFor(host, port); // a bad --proxy or proxy variable is a usage error before any probe
        }
        const serverName =
          flags.sni !== undefined ? parseHost(flags.sni, '--sni', { nameOnly: true }) : undefined;
        const concurrency = positiveInt(flags.concurrency, '--concurrency', MAX_CONCURRENCY);
        const timeoutMs = parseDuration(flags.probeTimeout, '--probe-timeout', {
          unit: 'ms',
          minMs: 10,
          maxMs: 300_000,
        });
        const results = await jarmMany(targets, {
          concurrency,
          timeoutMs,
          ...(flags.starttls ? { starttls: flags.starttls as StartTlsProtocol } : {}),
          ...(serverName !== undefined ? { serverName } : {}),
          proxy: proxyFor,
        });
        for (const raw of results) {
          // Errors quote what servers said (STARTTLS banners): outside text.
          const r = sanitizeDeep(raw);
          ctx.logger.debug({ target: r.target, errors: r.errors }, 'jarm');
          if (flags.json) await writeLine(JSON.stringify(r));
          else await writeLine(`${r.target} ${r.jarm}${flags.raw ? `\n  ${r.raw}` : ''}`);
        }
        ctx.setExit(EXIT.OK);
      },
    );
}
