/**
 * @module cli/commands/mitm
 * `certvigil mitm learn|relearn|show|forget TARGET` and
 * `certvigil check mitm TARGET` (a Nagios/Icinga plugin like `check endpoint`: exit 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 *
 * The TCP traceroute needs what Debian's `traceroute -T` needs: root or CAP_NET_RAW (see
 * probe/traceroute.ts); `--no-trace` keeps to JARM, which needs nothing.
 */
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CertvigilError, hasErrorCode } from '../../errors.js';
import {
  checkMitm,
  EMPTY_JARM,
  formatPluginOutput,
  parseHost,
  PLUGIN_EXIT,
  probeForLearning,
  safeJson,
  STARTTLS_PROTOCOLS,
  storeLearned,
  unknownStatusLine,
} from '../../probe/index.js';
import type { MitmProbeOptions, PortBaseline, StartTlsProtocol } from '../../probe/index.js';
import { RESULT_JSON_MAX, SQLITE_FILE_NAME } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStateOptions } from '../state-options.js';
import type * as MonitorSetupModule from '../monitor-setup.js';

type MonitorSetup = typeof MonitorSetupModule;
import type { MonitorFlags } from '../monitor-setup.js';
import { collect, parseDuration, positiveInt, writeLine } from '../flags.js';
import { sanitizeText } from '../../sanitize.js';

/** Store and config handling, loaded when an action runs (not when `check endpoint` registers). */
const setup = (): Promise<MonitorSetup> => import('../monitor-setup.js');

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

/** At most this many ports per target: each costs a traceroute and ten JARM connections per round. */
export const MAX_PORTS = 64;

const shown = (text: string): string => `"${sanitizeText(text, { maxLength: 40 })}"`;

/** `443,5222,5269` → [443, 5222, 5269]; each 1–65535, none twice, at least one, at most MAX_PORTS. */
export function parsePorts(text: string): number[] {
  const items = text.split(',').map((p) => p.trim());
  if (items.every((p) => p === '')) throw new CertvigilError('USAGE', '--ports: no port given');
  const ports: number[] = [];
  for (const p of items) {
    const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
    if (!(n >= 1 && n <= 65535)) throw new CertvigilError('USAGE', `--ports: bad port ${shown(p)} (1-65535)`);
    if (ports.includes(n)) throw new CertvigilError('USAGE', `--ports: port ${n} given twice`);
    ports.push(n);
  }
  if (ports.length > MAX_PORTS)
    throw new CertvigilError('USAGE', `--ports: at most ${MAX_PORTS} ports (got ${ports.length})`);
  return ports;
}

/** `5222=xmpp` (repeatable) → { 5222: 'xmpp' }; each port once, 1–65535, a known protocol. */
export function parseStartTlsMap(values: readonly string[]): Record<number, StartTlsProtocol> {
  const out: Record<number, StartTlsProtocol> = {};
  for (const v of values) {
    const m = /^(\d{1,5})=([a-z-]+)$/.exec(v.trim());
    const proto = m?.[2] as StartTlsProtocol | undefined;
    const port = Number(m?.[1]);
    if (!m || !proto || !STARTTLS_PROTOCOLS.includes(proto) || !(port >= 1 && port <= 65535))
      throw new CertvigilError(
        'USAGE',
        `--starttls wants PORT=PROTO with PORT 1-65535 and PROTO one of ${STARTTLS_PROTOCOLS.join(', ')} (got ${shown(v)})`,
      );
    if (out[port] !== undefined) throw new CertvigilError('USAGE', `--starttls: port ${port} given twice`);
    out[port] = proto;
  }
  return out;
}

/** The TARGET of `mitm` and `check mitm`: a host name or an IP address; ports go in --ports. */
export function parseMitmTarget(target: string): string {
  try {
    return parseHost(target, 'target');
  } catch (e) {
    const message = (e as Error).message;
    throw new CertvigilError(
      'USAGE',
      /no port here/.test(message) ? `${message} (give the ports with --ports)` : message,
    );
  }
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
    .option('--hops <n>', `last hops before the target to keep and compare (1-${MAX_HOPS})`, '3')
    .option('--no-jarm', 'skip the JARM fingerprints')
    .option('--no-trace', 'skip the TCP traceroutes (they need root or CAP_NET_RAW)')
    .option('-4, --ipv4', 'trace over IPv4')
    .option('-6, --ipv6', 'trace over IPv6')
    .option(
      '-t, --timeout <duration>',
      'time limit of one traceroute (1s-10m; a bare number is seconds)',
      '30',
    )
    .option(
      '--probe-timeout <duration>',
      'time limit of one JARM probe (10ms-5m; a bare number is milliseconds)',
      '2000',
    )
    .option('--json', 'machine-readable output');
}

const MAX_HOPS = 30;
const MAX_ROUNDS = 100;

function probeOptions(rawTarget: string, flags: ProbeFlags, defaultPorts: number[]): MitmProbeOptions {
  const target = parseMitmTarget(rawTarget);
  if (flags.ipv4 && flags.ipv6) throw new CertvigilError('USAGE', '-4 and -6 exclude each other');
  if (!flags.jarm && !flags.trace)
    throw new CertvigilError('USAGE', '--no-jarm and --no-trace leave nothing to do');
  const ports = flags.ports !== undefined ? parsePorts(flags.ports) : defaultPorts;
  const starttls = parseStartTlsMap(flags.starttls ?? []);
  if (flags.ports !== undefined)
    for (const port of Object.keys(starttls).map(Number))
      if (!ports.includes(port))
        throw new CertvigilError('USAGE', `--starttls ${port}=…: port ${port} is not in --ports`);
  const serverName =
    flags.sni !== undefined
      ? parseHost(flags.sni, '--sni', { nameOnly: true })
      : isIP(target) === 0
        ? target
        : undefined;
  return {
    target,
    ports,
    starttls,
    ...(serverName !== undefined ? { serverName } : {}),
    jarm: flags.jarm,
    trace: flags.trace,
    hops: positiveInt(flags.hops, '--hops', MAX_HOPS),
    ...(flags.ipv4 ? { family: 4 as const } : flags.ipv6 ? { family: 6 as const } : {}),
    jarmTimeoutMs: parseDuration(flags.probeTimeout, '--probe-timeout', {
      unit: 'ms',
      minMs: 10,
      maxMs: 300_000,
    }),
    traceTimeoutMs: parseDuration(flags.timeout, '-t/--timeout', { unit: 's', minMs: 1000, maxMs: 600_000 }),
  };
}

const LEARN_EXIT_HELP =
  '\nExit status: 0 every port learned; 2 a port could not be learned (no TLS answer, no traceroute: the\n' +
  'reason is on stderr, and nothing is stored for that port), or a usage error (one line on stderr).';

export function registerMitm(program: Command, ctx: Ctx): void {
  const mitm = program
    .command('mitm')
    .description('learn the JARM fingerprints and last hops of a target per port, for `check mitm`')
    .addHelpText(
      'after',
      '\nExit status: 0 success; 2 a port could not be learned, or a usage error (see each command’s --help).',
    );

  const learn =
    (replace: boolean) =>
    async (target: string, flags: ProbeFlags & { rounds: string; allowNoTls?: boolean }) => {
      const options = probeOptions(target, flags, [443]);
      const rounds = positiveInt(flags.rounds, '--rounds', MAX_ROUNDS);
      const allowNoTls = flags.allowNoTls === true;
      if (allowNoTls && !flags.jarm)
        throw new CertvigilError('USAGE', '--allow-no-tls needs the JARM probes');
      // The configuration is checked before the probes run (they may take minutes), the store opened
      // only after them and only when something was learned: a run that learns nothing writes nothing.
      await (await setup()).loadConfig(flags);
      const probe = await probeForLearning(options, { rounds, allowNoTls });
      for (const p of probe.rounds.flat().filter((x) => x.traceError || x.jarmError))
        ctx.logger.debug({ port: p.port, trace: p.traceError, jarm: p.jarmError }, 'probe failed');
      const baselines =
        probe.learnable.length > 0
          ? await (
              await setup()
            ).withStore(flags, (store) => storeLearned(store, options, probe, { replace, allowNoTls }))
          : [];
      for (const b of baselines) {
        if (flags.json) await writeLine(safeJson(b));
        else await writeLine(formatBaseline(b));
      }
      for (const r of probe.refused)
        process.stderr.write(
          `certvigil: ${options.target}:${r.port} not learned: ${sanitizeText(r.reason)}\n`,
        );
      ctx.setExit(probe.refused.length > 0 ? EXIT.ERROR : EXIT.OK);
    };

  addProbeOptions(
    mitm
      .command('learn')
      .summary('record the JARM and last hops per port (merged with what was learned before)')
      .argument('<target>', 'host name or IP address'),
    '443',
  )
    .option(
      '--rounds <n>',
      `probe rounds to learn from, 1-${MAX_ROUNDS} (load-balanced services show their variants)`,
      '3',
    )
    .option(
      '--allow-no-tls',
      'record a port without a TLS answer as "no TLS here" (TLS there later is a change)',
    )
    .addHelpText('after', LEARN_EXIT_HELP)
    .action(learn(false));

  addProbeOptions(
    mitm
      .command('relearn')
      .summary('forget the ports’ baseline and learn it again (after an expected change)')
      .argument('<target>', 'host name or IP address'),
    '443',
  )
    .option('--rounds <n>', `probe rounds to learn from, 1-${MAX_ROUNDS}`, '3')
    .option(
      '--allow-no-tls',
      'record a port without a TLS answer as "no TLS here" (TLS there later is a change)',
    )
    .addHelpText('after', LEARN_EXIT_HELP)
    .action(learn(true));

  addStateOptions(
    mitm
      .command('show')
      .summary('print the learned baselines')
      // Parsed here rather than in the action: a bad target is a usage error before the store opens.
      .argument('[target]', 'host name or IP address (default: every target)', parseMitmTarget),
  )
    .option('--json', 'one JSON object per target and port')
    .addHelpText(
      'after',
      '\nExit status: 0 the baselines were printed (none is not an error); 2 a usage error.',
    )
    .action(async (target: string | undefined, flags: MonitorFlags & { json?: boolean }) => {
      const baselines = await (
        await setup()
      ).withStore(flags, (store) => store.listMitmBaselines(target), {
        readOnly: true,
      });
      for (const b of baselines)
        await writeLine(
          flags.json ? safeJson(b) : `${formatBaseline(b)}; learned ${sanitizeText(b.learnedAt)}`,
        );
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(
    mitm
      .command('forget')
      .summary('delete a target’s baselines')
      .argument('<target>', 'host name or IP address'),
  )
    .option('--ports <list>', 'only these ports')
    .addHelpText(
      'after',
      '\nExit status: 0 done (also when there was nothing to forget); 2 a usage error or no certvigil state.',
    )
    .action(async (rawTarget: string, flags: MonitorFlags & { ports?: string }) => {
      const target = parseMitmTarget(rawTarget);
      const ports = flags.ports !== undefined ? parsePorts(flags.ports) : undefined;
      // Nothing to forget without state: say so instead of creating a state directory to delete from.
      const n = await (
        await setup()
      ).withStore(flags, (store) => store.deleteMitmBaselines(target, ports), {
        mustExist: true,
      });
      await writeLine(`forgot ${n} baseline${n === 1 ? '' : 's'} of ${target}`);
      ctx.setExit(EXIT.OK);
    });
}

/**
 * `check mitm` only reads baselines: without state there is nothing to compare with, and a plugin
 * run every few minutes must not create a state directory (and an empty database) as it goes.
 */
async function requireState(flags: MonitorFlags): Promise<void> {
  const config = await (await setup()).loadConfig(flags);
  if (config.database) return;
  const st = await stat(join(config.stateDir, SQLITE_FILE_NAME)).catch(() => null);
  if (!st?.isFile())
    throw new CertvigilError(
      'USAGE',
      `no certvigil state at ${sanitizeText(config.stateDir, { maxLength: 200 })} (run \`certvigil mitm learn\` first)`,
    );
}

/** One baseline as text; "no TLS" for the expected-no-TLS marker of `--allow-no-tls`. */
function formatBaseline(b: PortBaseline): string {
  const jarms = b.jarms.map((j) => (j === EMPTY_JARM ? 'no TLS' : j));
  return sanitizeText(
    `${b.target}:${b.port} JARM ${jarms.join(' | ') || '(not probed)'}; last hops ${
      b.lastHops.map((h) => h.join(' > ') || '(none answered)').join(' | ') || '(not traced)'
    }; hops ${b.hopCounts.join('/') || '?'}`,
  );
}

/**
 * The stored form of a `check mitm --record` result: the --json line (outside text escaped, not
 * removed). Should it exceed what the store keeps, the raw probes and the baselines (stored on
 * their own) are left out; the verdict and its findings always stay.
 */
export function recordedJson(result: Awaited<ReturnType<typeof checkMitm>>): string {
  const full = safeJson(result);
  if (full.length <= RESULT_JSON_MAX) return full;
  return safeJson({ ...result, probes: [], baselines: [], detailOmitted: true });
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
          'those ports looks (jabber.ru, 2023). The same change on every port is a WARNING (re-learn if expected).\n' +
          'A port learned with --allow-no-tls ("no TLS here") that answers with TLS has changed too, by the same rule.\n\n' +
          'Output: one status line "CERTVIGIL STATUS - text | perfdata" and the findings, or --json.\n' +
          'With --record, the result is also stored in the state (the last one per target), for the dashboard of\n' +
          '`certvigil serve` (/mitm, /api/v1/mitm); the output is the same. Without it nothing is written.\n\n' +
          'Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no baseline, a baseline that holds nothing,\n' +
          'a usage error, a result that could not be stored: then one "CERTVIGIL UNKNOWN - …" line).',
      )
      .argument('<target>', 'host name or IP address'),
    undefined,
  )
    .option(
      '--record',
      'store the result in the state for the dashboard (`serve`: /mitm); opens the state read-write',
    )
    .action(async (target: string, flags: ProbeFlags & { record?: boolean }) => {
      try {
        const options = probeOptions(target, flags, []);
        await requireState(flags);
        const record = flags.record === true;
        // Without --record the plugin only reads baselines: a read-only open, no migration, nothing
        // written. With it, the state must exist already (nothing is created) and is upgraded.
        const result = await (
          await setup()
        ).withStore(
          flags,
          async (store) => {
            const r = await checkMitm(store, options);
            if (record)
              await store.putMitmResult({
                target: r.target,
                status: r.status,
                resultJson: recordedJson(r),
                checkedAt: new Date().toISOString(),
              });
            return r;
          },
          record ? { mustExist: true } : { readOnly: true },
        );
        if (flags.json) await writeLine(safeJson(result));
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
        // Ours or a coded environment error (ENOENT…): UNKNOWN with its message; else a bug.
        if (!hasErrorCode(e)) throw e;
        process.stdout.write(unknownStatusLine(e.message));
        ctx.setExit(EXIT.UNKNOWN);
      }
    });
}
