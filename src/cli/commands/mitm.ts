/**
 * @module cli/commands/mitm
 * `certvigil mitm learn|relearn|show|forget TARGET` and
 * `certvigil check mitm TARGET` (a Nagios/Icinga plugin like `check endpoint`: exit 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 *
 * The TCP traceroute needs what Debian's `traceroute -T` needs: root or CAP_NET_RAW (see
 * probe/traceroute.ts); `--no-trace` keeps to JARM, which needs nothing.
 */
import type { Command } from 'commander';
import { CertvigilError, isCertvigilError } from '../../errors.js';
import { checkMitm, learnMitm } from '../../probe/mitm.js';
import type { MitmProbeOptions } from '../../probe/mitm.js';
import { formatPluginOutput, unknownStatusLine } from '../../probe/plugin-output.js';
import { PLUGIN_EXIT, STARTTLS_PROTOCOLS } from '../../probe/types.js';
import type { StartTlsProtocol } from '../../probe/types.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { collect, positiveInt } from '../flags.js';
import { writeLine } from '../flags.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface ProbeFlags extends MonitorFlags {
  ports?: string;
  starttls?: string[];
  sni?: string;
  hops: string;
  jarm: boolean;
  trace: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  timeout: string;
  probeTimeout: string;
  json?: boolean;
}

/** `443,5222,5269` → [443, 5222, 5269]. */
export function parsePorts(text: string): number[] {
  const ports = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new CertvigilError('USAGE', `--ports: bad port ${p}`);
      return n;
    });
  return [...new Set(ports)];
}

/** `5222=xmpp` (repeatable) → { 5222: 'xmpp' }. */
export function parseStartTlsMap(values: readonly string[]): Record<number, StartTlsProtocol> {
  const out: Record<number, StartTlsProtocol> = {};
  for (const v of values) {
    const m = /^(\d+)=([a-z-]+)$/.exec(v.trim());
    const proto = m?.[2] as StartTlsProtocol | undefined;
    if (!m || !proto || !STARTTLS_PROTOCOLS.includes(proto))
      throw new CertvigilError(
        'USAGE',
        `--starttls wants PORT=PROTO with PROTO one of ${STARTTLS_PROTOCOLS.join(', ')} (got ${v})`,
      );
    out[Number(m[1])] = proto;
  }
  return out;
}

function addProbeOptions(cmd: Command, defaultPorts: string | undefined): Command {
  return addStateOptions(cmd)
    .option(
      '--ports <list>',
      `destination ports, comma-separated${defaultPorts ? ` (default ${defaultPorts})` : ''}`,
    )
    .option(
      '--starttls <port=proto>',
      'STARTTLS before the JARM probes on that port, e.g. 5222=xmpp (repeatable)',
      collect,
    )
    .option('--sni <name>', 'server name for the JARM probes (default: TARGET when it is a name)')
    .option('--hops <n>', 'last hops before the target to keep and compare', '3')
    .option('--no-jarm', 'skip the JARM fingerprints')
    .option('--no-trace', 'skip the TCP traceroutes (they need root or CAP_NET_RAW)')
    .option('-4, --ipv4', 'trace over IPv4')
    .option('-6, --ipv6', 'trace over IPv6')
    .option('-t, --timeout <seconds>', 'time limit of one traceroute', '30')
    .option('--probe-timeout <ms>', 'time limit of one JARM probe', '2000')
    .option('--json', 'machine-readable output');
}

function probeOptions(target: string, flags: ProbeFlags, defaultPorts: number[]): MitmProbeOptions {
  if (flags.ipv4 && flags.ipv6) throw new CertvigilError('USAGE', '-4 and -6 exclude each other');
  if (!flags.jarm && !flags.trace)
    throw new CertvigilError('USAGE', '--no-jarm and --no-trace leave nothing to do');
  const isName = !/^[\d.]+$/.test(target) && !target.includes(':');
  return {
    target,
    ports: flags.ports ? parsePorts(flags.ports) : defaultPorts,
    starttls: parseStartTlsMap(flags.starttls ?? []),
    ...(flags.sni ? { serverName: flags.sni } : isName ? { serverName: target } : {}),
    jarm: flags.jarm,
    trace: flags.trace,
    hops: positiveInt(flags.hops, '--hops'),
    ...(flags.ipv4 ? { family: 4 as const } : flags.ipv6 ? { family: 6 as const } : {}),
    jarmTimeoutMs: positiveInt(flags.probeTimeout, '--probe-timeout'),
    traceTimeoutMs: positiveInt(flags.timeout, '-t/--timeout') * 1000,
  };
}

export function registerMitm(program: Command, ctx: Ctx): void {
  const mitm = program
    .command('mitm')
    .description('learn the JARM fingerprints and last hops of a target per port, for `check mitm`');

  const learn = (replace: boolean) => async (target: string, flags: ProbeFlags & { rounds: string }) => {
    const options = probeOptions(target, flags, [443]);
    const rounds = positiveInt(flags.rounds, '--rounds');
    const result = await withStore(flags, (store) => learnMitm(store, options, { rounds, replace }));
    for (const b of result.baselines) {
      if (flags.json) await writeLine(JSON.stringify(b));
      else
        await writeLine(
          `${b.target}:${b.port} JARM ${b.jarms.join(' | ') || '(none)'}; last hops ${
            b.lastHops.map((h) => h.join(' > ') || '(none answered)').join(' | ') || '(not traced)'
          }; hops ${b.hopCounts.join('/') || '?'}`,
        );
    }
    const failed = result.rounds.flat().filter((p) => p.traceError || p.jarmError);
    for (const p of failed)
      ctx.logger.warn({ port: p.port, trace: p.traceError, jarm: p.jarmError }, 'probe failed');
    ctx.setExit(EXIT.OK);
  };

  addProbeOptions(
    mitm
      .command('learn')
      .summary('record the JARM and last hops per port (merged with what was learned before)')
      .argument('<target>', 'host name or IP address'),
    '443',
  )
    .option('--rounds <n>', 'probe rounds to learn from (load-balanced services show their variants)', '3')
    .action(learn(false));

  addProbeOptions(
    mitm
      .command('relearn')
      .summary('forget the ports’ baseline and learn it again (after an expected change)')
      .argument('<target>', 'host name or IP address'),
    '443',
  )
    .option('--rounds <n>', 'probe rounds to learn from', '3')
    .action(learn(true));

  addStateOptions(mitm.command('show').summary('print the learned baselines').argument('[target]'))
    .option('--json', 'one JSON object per target and port')
    .action(async (target: string | undefined, flags: MonitorFlags & { json?: boolean }) => {
      const baselines = await withStore(flags, (store) => store.listMitmBaselines(target), {
        readOnly: true,
      });
      for (const b of baselines)
        await writeLine(
          flags.json
            ? JSON.stringify(b)
            : `${b.target}:${b.port} JARM ${b.jarms.join(' | ') || '(none)'}; last hops ${
                b.lastHops.map((h) => h.join(' > ')).join(' | ') || '(none)'
              }; hops ${b.hopCounts.join('/') || '?'}; learned ${b.learnedAt}`,
        );
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(mitm.command('forget').summary('delete a target’s baselines').argument('<target>'))
    .option('--ports <list>', 'only these ports')
    .action(async (target: string, flags: MonitorFlags & { ports?: string }) => {
      const n = await withStore(flags, (store) =>
        store.deleteMitmBaselines(target, flags.ports ? parsePorts(flags.ports) : undefined),
      );
      await writeLine(`forgot ${n} baseline${n === 1 ? '' : 's'} of ${target}`);
      ctx.setExit(EXIT.OK);
    });
}

/** `certvigil check mitm TARGET`: registered under `check` (check.ts). */
export function registerCheckMitm(check: Command, ctx: Ctx): void {
  addProbeOptions(
    check
      .command('mitm')
      .summary('has the TLS fingerprint or the path changed on some ports only? (Nagios/Icinga plugin)')
      .description(
        'Probe the ports of TARGET (default: every port with a baseline from `mitm learn`) and compare the JARM\n' +
          'fingerprint and the last hops of a TCP traceroute with the baseline. A change on some ports only —\n' +
          'a new last hop, one hop more, another TLS stack — is CRITICAL: that is how an interception in front of\n' +
          'those ports looks (jabber.ru, 2023). The same change on every port is a WARNING (re-learn if expected).\n\n' +
          'Output: one status line "CERTVIGIL STATUS - text | perfdata" and the findings, or --json.\n' +
          'Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no baseline, usage error).',
      )
      .argument('<target>', 'host name or IP address'),
    undefined,
  ).action(async (target: string, flags: ProbeFlags) => {
    try {
      const options = probeOptions(target, flags, []);
      const result = await withStore(flags, (store) => checkMitm(store, options));
      if (flags.json) await writeLine(JSON.stringify(result));
      else {
        const changed = result.findings.filter((f) => f.id.endsWith('-changed')).length;
        process.stdout.write(
          formatPluginOutput(result.status, result.summary, result.findings, [
            { label: 'ports', value: result.ports.length, uom: '', min: 0 },
            { label: 'changed', value: changed, uom: '', min: 0 },
          ]),
        );
      }
      ctx.setExit(PLUGIN_EXIT[result.status] as ExitCode);
    } catch (e) {
      if (!isCertvigilError(e)) throw e;
      process.stdout.write(unknownStatusLine(e.message));
      ctx.setExit(EXIT.UNKNOWN);
    }
  });
}
