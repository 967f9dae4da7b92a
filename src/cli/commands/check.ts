/**
 * @module cli/commands/check
 * `certvigil check endpoint HOST[:PORT]` — the external check as a Nagios/Icinga plugin — and
 * `certvigil check endpoints --config FILE` for many endpoints at once.
 *
 * Monitoring-plugins conventions (Monitoring Plugins Development Guidelines): one status line
 * `CERTVIGIL OK|WARNING|CRITICAL|UNKNOWN - …` with perfdata, long output after it, exit 0/1/2/3,
 * `-H -p -w -c -t -V -h`. A usage error or anything that stops the check itself is UNKNOWN (3);
 * a server that cannot be reached or misbehaves is CRITICAL (2), as check_ssl_cert and check_http do.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Command } from 'commander';
import { DEFAULT_LOG_LIST_URL, loadLogListCached } from '../../ct/index.js';
import type { LogInfo } from '../../ct/index.js';
import { CertvigilError, isCertvigilError } from '../../errors.js';
import { parseHostPort, parseProxy } from '../../probe/connect.js';
import { checkEndpoint } from '../../probe/endpoint.js';
import type { EndpointCheckOptions, EndpointCheckResult } from '../../probe/endpoint.js';
import { formatPluginOutput, safeJson, statusText, unknownStatusLine } from '../../probe/plugin-output.js';
import { DEFAULT_PORTS } from '../../probe/starttls.js';
import { PLUGIN_EXIT, STARTTLS_PROTOCOLS } from '../../probe/types.js';
import type { PluginStatus } from '../../probe/types.js';
import type { Store } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { openConfiguredStore } from '../monitor-setup.js';
import { registerCheckMitm } from './mitm.js';
import { registerCheckMonitor } from './check-monitor.js';
import { resolverFromFlags } from '../resolver-options.js';
import { collect, positiveInt } from '../flags.js';
import {
  MAX_CONCURRENCY,
  MAX_DAYS,
  MAX_RSA_BITS,
  checkCaFile,
  checkDatabaseUrl,
  checkLogListFile,
  checkResolvers,
  checkSpec,
  checkStateDir,
  readEndpointsConfig,
  specFromFlags,
} from './check-input.js';
import type { EndpointFlags, EndpointSpec } from './check-input.js';
import { sanitizeText } from '../../sanitize.js';

export const DEFAULT_CRTSH_URL = 'https://crt.sh';
export const DEFAULT_CERTSPOTTER_URL = 'https://api.certspotter.com';
const SYSTEM_CA_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface Shared {
  logs: LogInfo[];
  store?: Store;
  resolverFlags: { resolver?: string[] };
  certSpotterApiKey?: string;
}

async function readTrustAnchors(caFile: string | undefined): Promise<string | string[]> {
  if (caFile) {
    try {
      return await readFile(caFile, 'utf8');
    } catch (e) {
      throw new CertvigilError(
        'USAGE',
        `cannot read --ca-file ${sanitizeText(caFile)}: ${(e as Error).message}`,
      );
    }
  }
  // The system store, as OpenSSL-based tools on the machine see it; Node's bundled roots otherwise.
  const fromEnv = process.env.SSL_CERT_FILE;
  for (const path of fromEnv ? [fromEnv, ...SYSTEM_CA_FILES] : SYSTEM_CA_FILES) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      // try the next
    }
  }
  return [...rootCertificates];
}

function apiUrl(value: string | boolean | undefined, fallback: string): string | null {
  if (value === undefined || value === false) return null;
  return value === true ? fallback : value.replace(/\/+$/, '');
}

async function buildOptions(spec: EndpointSpec, shared: Shared): Promise<EndpointCheckOptions> {
  const defaultPort = spec.starttls ? DEFAULT_PORTS[spec.starttls] : 443;
  const { host, port } = parseHostPort(spec.target, defaultPort);
  const warnDays = spec.warning ?? 20;
  const critDays = spec.critical ?? 15;
  const needsResolver = (shared.resolverFlags.resolver?.length ?? 0) > 0;
  const resolver =
    needsResolver || spec.expectCaa ? await resolverFromFlags(shared.resolverFlags) : undefined;
  return {
    host,
    port,
    ...(spec.starttls ? { starttls: spec.starttls } : {}),
    ...(spec.sni ? { sni: spec.sni } : {}),
    ...(spec.connectTo?.length ? { connectTo: spec.connectTo } : {}),
    ...(spec.proxy ? { proxy: parseProxy(spec.proxy) } : {}),
    ...(needsResolver && resolver ? { resolver } : {}),
    ...(spec.family ? { family: spec.family } : {}),
    trustAnchors: await readTrustAnchors(spec.caFile),
    pins: spec.pins ?? [],
    expectIssuer: spec.expectIssuer ?? [],
    ...(spec.expectCaa && resolver
      ? {
          expectCaa: {
            resolver,
            ...(spec.caaIdentifiers?.length ? { issuerDomains: spec.caaIdentifiers } : {}),
          },
        }
      : {}),
    logs: shared.logs,
    ctPolicy: spec.ctPolicy ?? 'chrome',
    ...(spec.minScts !== undefined ? { minScts: spec.minScts } : {}),
    ctPresence: {
      proofs: spec.ctProof ?? true,
      crtShUrl: apiUrl(spec.crtsh, DEFAULT_CRTSH_URL),
      certSpotterUrl: apiUrl(spec.certspotter, DEFAULT_CERTSPOTTER_URL),
      ...(shared.certSpotterApiKey ? { certSpotterApiKey: shared.certSpotterApiKey } : {}),
    },
    ...(shared.store ? { store: shared.store } : {}),
    warnDays,
    critDays,
    minRsaBits: spec.minRsaBits ?? 2048,
    timeoutMs: Math.round((spec.timeout ?? 15) * 1000),
  };
}

/** Where a downloaded log list is kept between plugin runs ($XDG_CACHE_HOME/certvigil). */
function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'certvigil');
}

/**
 * The log list, downloaded at most once a day (ct/loglist-cache.ts): a plugin run every few minutes
 * must neither fetch Google's list each time nor turn UNKNOWN when one download fails.
 */
async function loadLogs(source: string | undefined, logger: Logger): Promise<LogInfo[]> {
  const list = await loadLogListCached(source ?? DEFAULT_LOG_LIST_URL, { cacheDir: defaultCacheDir() });
  if (list.cache === 'stale')
    logger.warn(
      { source: list.source, fetchedAt: list.fetchedAt, error: list.refreshError },
      'using a stale log list',
    );
  return list.logs;
}

async function openStoreIfAsked(flags: { stateDir?: string; database?: string }): Promise<Store | undefined> {
  if (!flags.stateDir && !flags.database) return undefined;
  // The external check only reads the monitor's state (CT presence, inventory): a read-only open,
  // so a plugin run every few minutes never creates, migrates or locks it.
  return openConfiguredStore(
    { stateDir: flags.stateDir ?? '.', database: flags.database ?? null },
    { readOnly: true },
  );
}

/** Runs one check with a hard deadline of its own, so a plugin never outlives `-t`. */
async function runWithDeadline(options: EndpointCheckOptions): Promise<EndpointCheckResult> {
  const controller = new AbortController();
  const hardLimit = options.timeoutMs + 2000;
  const timer = setTimeout(() => controller.abort(), hardLimit);
  try {
    return await checkEndpoint({ ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

const pluginExit = (status: PluginStatus): ExitCode => PLUGIN_EXIT[status] as ExitCode;

export function registerCheck(program: Command, ctx: Ctx): void {
  const check = program
    .command('check')
    .description(
      'Checks in the monitoring-plugins format (Nagios, Icinga): exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not check, a usage error, or no check given).',
    );
  // Monitoring-plugins guidelines: every plugin lists -V/--version in its help. The program's own
  // -V (and --log-level) work after `check X` too; show them there as "Global Options" (inherited
  // by the check subcommands created below).
  check.configureHelp({ ...check.configureHelp(), showGlobalOptions: true });

  check
    .command('endpoint')
    .summary('is the certificate this server presents really ours? (Nagios/Icinga plugin)')
    .description(
      'Connect to every address of HOST (IPv4 and IPv6), optionally after STARTTLS, and check the certificate\n' +
        'it presents: path validation, host name, expiry (-w/-c days), key, expected issuer (--expect-issuer),\n' +
        'leaf key pins (--pin), CAA (--expect-caa), SCTs from all three deliveries verified against the log list,\n' +
        'the CT policy (chrome by default), presence in CT (inclusion proofs from the logs named in the SCTs,\n' +
        "optionally crt.sh and Cert Spotter) and, with --state-dir, certvigil's monitor store and inventory.\n\n" +
        'Output: one status line "CERTVIGIL STATUS - text | perfdata", then one line per finding; or --json.\n' +
        'Exit status: 0 OK, 1 WARNING, 2 CRITICAL (including an unreachable server), 3 UNKNOWN (could not check;\n' +
        'a usage error or bad input, such as a bad target or an unreadable --ca-file, is one "CERTVIGIL UNKNOWN - …"\n' +
        'line, and nothing is loaded, created or probed).',
    )
    .argument('[target]', 'HOST[:PORT] or [IPv6]:PORT (port default 443, or the STARTTLS protocol port)')
    .option('-H, --hostname <host>', 'host to check (instead of the argument)')
    .option('-p, --port <port>', 'port (overrides the one in the target)')
    .option('--starttls <proto>', `upgrade with STARTTLS first: ${STARTTLS_PROTOCOLS.join(', ')}`)
    .option('--sni <name>', 'server name to send and to match the certificate against (default: HOST)')
    .option('--connect-to <addr>', 'connect to this address instead of HOST’s (repeatable)', collect)
    .option(
      '--proxy <url>',
      'connect through a SOCKS5 proxy: socks5://HOST:PORT, socks5h:// to resolve there',
    )
    .option(
      '--resolver <host:port>',
      'DNS resolver for A/AAAA and CAA (repeatable; default: the system)',
      collect,
    )
    .option('-4, --ipv4', 'IPv4 addresses only')
    .option('-6, --ipv6', 'IPv6 addresses only')
    .option('--ca-file <pem>', 'trust anchors for path validation; replaces the system store')
    .option(
      '--pin <sha256>',
      'SHA-256 of an acceptable leaf SubjectPublicKeyInfo, hex or base64 (repeatable)',
      collect,
    )
    .option(
      '--expect-issuer <text|sha256>',
      'issuer DN text, or hex SHA-256 of the issuer’s SPKI (repeatable)',
      collect,
    )
    .option('--expect-caa', "the issuer must be one the name's current CAA allows (CAA engine)")
    .option(
      '--caa-identifier <domain>',
      "the issuer's CAA domain, when the built-in table does not know it (repeatable)",
      collect,
    )
    .option(
      '--log-list <file|url>',
      `CT log list v3 whose keys verify SCTs (default ${DEFAULT_LOG_LIST_URL}; a URL is cached for a day)`,
    )
    .option('--ct-policy <name>', 'SCT policy: chrome, apple or none', 'chrome')
    .option(
      '--min-scts <n>',
      'valid SCTs from distinct qualifying logs required (overrides the policy count)',
    )
    .option('--no-ct-proof', 'do not ask the logs named in the SCTs for inclusion proofs')
    .option('--crtsh [url]', `also look the certificate up on crt.sh (default ${DEFAULT_CRTSH_URL})`)
    .option(
      '--certspotter [url]',
      `also look it up with the Cert Spotter API (default ${DEFAULT_CERTSPOTTER_URL}; key: $CERTSPOTTER_API_KEY)`,
    )
    .option(
      '--state-dir <dir>',
      "certvigil monitor state: CT presence from the monitor's store, and the inventory",
    )
    .option('--database <url>', 'postgres:// URL of the monitor state instead of --state-dir')
    .option(
      '-w, --warning <days>',
      `WARNING when the certificate expires within this many days (0-${MAX_DAYS})`,
      '20',
    )
    .option(
      '-c, --critical <days>',
      `CRITICAL when the certificate expires within this many days (0-${MAX_DAYS})`,
      '15',
    )
    .option('--min-rsa-bits <n>', `smallest acceptable RSA key (up to ${MAX_RSA_BITS})`, '2048')
    .option(
      '-t, --timeout <duration>',
      'time limit per address for connect, STARTTLS and handshake (100ms-1h; a bare number is seconds)',
      '15',
    )
    .option('--json', 'print one JSON object instead of the plugin text')
    .action(async (target: string | undefined, flags: EndpointFlags) => {
      let store: Store | undefined;
      try {
        // Everything the user gave is checked before the log list is loaded or the store opened.
        const spec = specFromFlags(target, flags);
        checkResolvers(flags.resolver);
        if (spec.caFile !== undefined) await checkCaFile(spec.caFile);
        await checkLogListFile(flags.logList);
        checkDatabaseUrl(flags.database);
        if (!flags.database) await checkStateDir(flags.stateDir);
        const logs = await loadLogs(flags.logList, ctx.logger);
        store = await openStoreIfAsked(flags);
        const options = await buildOptions(spec, {
          logs,
          resolverFlags: { ...(flags.resolver ? { resolver: flags.resolver } : {}) },
          ...(store ? { store } : {}),
          ...(process.env.CERTSPOTTER_API_KEY ? { certSpotterApiKey: process.env.CERTSPOTTER_API_KEY } : {}),
        });
        const result = await runWithDeadline(options);
        ctx.logger.debug({ target: result.target, status: result.status }, 'endpoint checked');
        // Certificate fields and server banners are in the findings: sanitised in both formats.
        process.stdout.write(
          flags.json
            ? `${safeJson(result)}\n`
            : formatPluginOutput(result.status, result.summary, result.findings, result.perfdata),
        );
        ctx.setExit(pluginExit(result.status));
      } catch (e) {
        if (!isCertvigilError(e)) throw e;
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ status: 'UNKNOWN', error: sanitizeText(e.message) })}\n`
            : unknownStatusLine(e.message),
        );
        ctx.setExit(EXIT.UNKNOWN);
      } finally {
        await store?.close();
      }
    });

  registerCheckMitm(check, ctx);
  registerCheckMonitor(check, ctx);

  check
    .command('endpoints')
    .summary('check many endpoints from a YAML file, in parallel')
    .description(
      'Run the endpoint check for every entry of --config FILE, several at once. FILE (YAML):\n' +
        '  logList: /var/lib/certvigil/all_logs_list.json   # optional, as --log-list\n' +
        '  stateDir: /var/lib/certvigil                     # optional, as --state-dir\n' +
        '  resolver: [127.0.0.1:53]                         # optional\n' +
        '  defaults: { ctPolicy: chrome, warning: 20, critical: 15 }\n' +
        '  endpoints:\n' +
        '    - target: www.example.com:443\n' +
        '      pins: [<hex sha256 of the leaf SPKI>]\n' +
        '    - { target: mail.example.com, starttls: smtp, expectIssuer: ["Let\'s Encrypt"], expectCaa: true }\n' +
        'Entry keys: target starttls sni connectTo proxy family caFile pins expectIssuer expectCaa caaIdentifiers\n' +
        'ctPolicy minScts ctProof crtsh certspotter warning critical minRsaBits timeout.\n\n' +
        'Output: one plugin status line per endpoint and a summary line, or --json: one object per line.\n' +
        'Every entry is checked before anything runs: one bad entry makes the whole run UNKNOWN, naming it.\n' +
        'Exit status: the worst of all endpoints (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); 3 with one\n' +
        '"CERTVIGIL UNKNOWN - …" line for an unreadable or invalid --config or a usage error.',
    )
    .requiredOption('--config <file>', 'YAML file listing the endpoints')
    .option('--concurrency <n>', `endpoints checked at once (1-${MAX_CONCURRENCY})`, '8')
    .option('--json', 'print one JSON object per endpoint, one per line')
    .action(async (flags: { config: string; concurrency: string; json?: boolean }) => {
      let store: Store | undefined;
      try {
        const concurrency = positiveInt(flags.concurrency, '--concurrency', MAX_CONCURRENCY);
        const config = await readEndpointsConfig(flags.config);
        // Every entry is checked before anything is loaded: one bad entry is a usage error.
        const specs = config.endpoints.map((e, i) =>
          checkSpec({ ...config.defaults, ...e }, `endpoints[${i}]: `),
        );
        checkResolvers(config.resolver);
        for (const caFile of new Set(specs.map((sp) => sp.caFile)))
          if (caFile !== undefined) await checkCaFile(caFile);
        await checkLogListFile(config.logList);
        checkDatabaseUrl(config.database);
        if (!config.database) await checkStateDir(config.stateDir);
        const logs = await loadLogs(config.logList, ctx.logger);
        store = await openStoreIfAsked(config);
        const shared: Shared = {
          logs,
          resolverFlags: { ...(config.resolver ? { resolver: config.resolver } : {}) },
          ...(store ? { store } : {}),
          ...(process.env.CERTSPOTTER_API_KEY ? { certSpotterApiKey: process.env.CERTSPOTTER_API_KEY } : {}),
        };
        const results: {
          target: string;
          status: PluginStatus;
          result?: EndpointCheckResult;
          error?: string;
        }[] = new Array(specs.length);
        let next = 0;
        const worker = async (): Promise<void> => {
          for (;;) {
            const i = next++;
            const spec = specs[i];
            if (spec === undefined) return;
            try {
              const result = await runWithDeadline(await buildOptions(spec, shared));
              results[i] = { target: spec.target, status: result.status, result };
            } catch (e) {
              if (!isCertvigilError(e)) throw e;
              results[i] = { target: spec.target, status: 'UNKNOWN', error: e.message };
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
        const counts: Record<PluginStatus, number> = { OK: 0, WARNING: 0, CRITICAL: 0, UNKNOWN: 0 };
        for (const r of results) {
          counts[r.status]++;
          if (flags.json) process.stdout.write(`${safeJson(r.result ?? r)}\n`);
          else if (r.result)
            process.stdout.write(`CERTVIGIL ${r.result.status} - ${statusText(r.result.summary)}\n`);
          else process.stdout.write(unknownStatusLine(`${r.target}: ${r.error ?? ''}`));
        }
        const worst = (['CRITICAL', 'UNKNOWN', 'WARNING', 'OK'] as const).find((s) => counts[s] > 0) ?? 'OK';
        if (!flags.json)
          process.stdout.write(
            `${results.length} endpoints: ${counts.OK} OK, ${counts.WARNING} WARNING, ${counts.CRITICAL} CRITICAL, ${counts.UNKNOWN} UNKNOWN\n`,
          );
        ctx.setExit(pluginExit(worst));
      } catch (e) {
        if (!isCertvigilError(e)) throw e;
        process.stdout.write(unknownStatusLine(e.message));
        ctx.setExit(EXIT.UNKNOWN);
      } finally {
        await store?.close();
      }
    });
}
