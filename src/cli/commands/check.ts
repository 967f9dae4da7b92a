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
import { DEFAULT_LOG_LIST_URL } from '../../ct/index.js';
import { CertvigilError, hasErrorCode } from '../../errors.js';
import {
  checkEndpoint,
  DEFAULT_CERTSPOTTER_URL,
  DEFAULT_CRTSH_URL,
  DEFAULT_PORTS,
  formatPluginOutput,
  parseHostPort,
  PLUGIN_EXIT,
  publicRootHashes,
  readSystemBundle,
  safeJson,
  STARTTLS_PROTOCOLS,
  statusText,
  unknownStatusLine,
  worstStatus,
} from '../../probe/index.js';
import type {
  EndpointCheckOptions,
  EndpointCheckResult,
  LogsForCheck,
  PluginStatus,
} from '../../probe/index.js';
import { loadCheckLogList } from './check-loglist.js';
import type { Store } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { registerCheckMitm } from './mitm.js';
import { registerCheckMonitor } from './check-monitor.js';
import { registerCheckInternal } from './check-internal.js';
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
  readClientCert,
  proxyForSpec,
  readEndpointsConfig,
  specFromFlags,
} from './check-input.js';
import type { EndpointFlags, EndpointSpec } from './check-input.js';
import { sanitizeText } from '../../sanitize.js';
import { tlsPolicyOf } from './check-tls-policy.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface Shared {
  /** The log list, loaded at most once per run and only when a chain needs it. */
  loadLogs: (budgetMs: number) => Promise<LogsForCheck>;
  publicRoots: () => Promise<ReadonlySet<string>>;
  /** When the run's `-t` clock started (ms since the epoch); endpoints of `check endpoints` start their own. */
  startedAt?: number;
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
  return (await readSystemBundle()) ?? [...rootCertificates];
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
  const proxy = proxyForSpec(spec, host, port);
  const needsResolver = (shared.resolverFlags.resolver?.length ?? 0) > 0;
  const resolver =
    needsResolver || spec.expectCaa || spec.dane ? await resolverFromFlags(shared.resolverFlags) : undefined;
  return {
    host,
    port,
    ...(spec.starttls ? { starttls: spec.starttls } : {}),
    ...(spec.sni ? { sni: spec.sni } : {}),
    ...(spec.connectTo?.length ? { connectTo: spec.connectTo } : {}),
    ...(proxy ? { proxy } : {}),
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
    loadLogs: shared.loadLogs,
    customAnchors: spec.caFile !== undefined,
    publicRoots: shared.publicRoots,
    ...(spec.requireCt ? { requireCt: true } : {}),
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
    timeoutMs: Math.round((spec.timeout ?? DEFAULT_TIMEOUT_S) * 1000),
    ...(shared.startedAt !== undefined
      ? { deadline: shared.startedAt + Math.round((spec.timeout ?? DEFAULT_TIMEOUT_S) * 1000) }
      : {}),
    revocation: { mode: spec.revocation ?? 'leaf', unreachable: spec.revocationUnreachable ?? 'warning' },
    ...(spec.keyTypes ? { keyTypes: spec.keyTypes } : {}),
    ...tlsPolicyOf(spec),
    ...(spec.dane && resolver ? { dane: { resolver } } : {}),
    ...(spec.clientCert ? { clientCert: await readClientCert(spec.clientCert, spec.clientKey) } : {}),
  };
}

/** `-t` default: under NRPE's and Icinga's 10 s command timeouts… with room to print. */
const DEFAULT_TIMEOUT_S = 9;

/** Memoises an async loader: one download and one root-store read per process. */
function once<A extends unknown[], T>(load: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let promise: Promise<T> | undefined;
  return (...args: A) => (promise ??= load(...args));
}

function sharedLoaders(
  logList: string | undefined,
  stateDir: string | undefined,
): Pick<Shared, 'loadLogs' | 'publicRoots'> {
  return {
    loadLogs: once((budgetMs: number) =>
      loadCheckLogList({
        source: logList ?? DEFAULT_LOG_LIST_URL,
        cacheDir: defaultCacheDir(),
        budgetMs,
        // The monitor's hourly-refreshed copy of the default lists, when it shares this host.
        ...(stateDir !== undefined
          ? { monitorStateDir: stateDir, sourceIsDefault: logList === undefined }
          : {}),
      }),
    ),
    publicRoots: once(() => publicRootHashes()),
  };
}

/** Where a downloaded log list is kept between plugin runs ($XDG_CACHE_HOME/certvigil). */
function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'certvigil');
}

async function openStoreIfAsked(flags: { stateDir?: string; database?: string }): Promise<Store | undefined> {
  if (!flags.stateDir && !flags.database) return undefined;
  // The external check only reads the monitor's state (CT presence, inventory): a read-only open,
  // so a plugin run every few minutes never creates, migrates or locks it.
  const { openConfiguredStore } = await import('../monitor-setup.js');
  return openConfiguredStore(
    { stateDir: flags.stateDir ?? '.', database: flags.database ?? null },
    { readOnly: true },
  );
}

/**
 * Runs one check; `checkEndpoint` ends its phases by the deadline itself, and this abort is the
 * backstop that closes whatever socket is still open when it passes.
 */
async function runWithDeadline(options: EndpointCheckOptions): Promise<EndpointCheckResult> {
  const controller = new AbortController();
  const deadline = options.deadline ?? Date.now() + options.timeoutMs;
  const timer = setTimeout(() => controller.abort(), Math.max(1, deadline - Date.now()));
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
        "optionally crt.sh and Cert Spotter) and, with --state-dir, certvigil's monitor store and inventory.\n" +
        'Every certificate the server sends is checked too (chain-expiry by -w/-c, key, signature algorithm,\n' +
        'order, missing intermediates; an INFO line each); --key-types checks each certificate of a\n' +
        'dual-certificate server, --client-cert presents a client certificate.\n' +
        'Revocation (--revocation leaf by default): the stapled OCSP response first (verified), RFC 7633\n' +
        'must-staple, the OCSP responder, the CRL. Optional: TLS versions and weak ciphers (--min-tls,\n' +
        '--require-no-tls1, --weak-ciphers), DANE (--dane). Proxies: --proxy http:// or socks5://, or\n' +
        'https_proxy/all_proxy from the environment (--no-proxy ignores them).\n' +
        'CT is required only of chains ending at a public root (a private --ca-file CA: INFO, unless --require-ct);\n' +
        '--min-scts 0 or --ct-policy none turn CT off, log list included. -t bounds the whole run.\n\n' +
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
      'connect through a proxy: http://[USER:PASS@]HOST:PORT (CONNECT), socks5://HOST:PORT, socks5h:// to ' +
        'resolve there (default: $https_proxy, else $all_proxy; STARTTLS: $all_proxy; minus $NO_PROXY)',
    )
    .option('--no-proxy', 'ignore the proxy environment variables (connect directly)')
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
      '--revocation <mode>',
      'OCSP (stapled first), must-staple and CRL checks: leaf, chain (also every intermediate) or off (default leaf)',
    )
    .option(
      '--revocation-unreachable <status>',
      'status when no OCSP responder or CRL answers: ok, warning or critical (default warning)',
    )
    .option(
      '-t, --timeout <duration>',
      `time limit for the whole check: every address, the log list, CT and CAA lookups (100ms-1h; a bare number is seconds; default ${DEFAULT_TIMEOUT_S}, under NRPE's 10 s)`,
    )
    .option(
      '--require-ct',
      'apply the CT policy even when the chain ends at a private --ca-file anchor (default: CT is required only of publicly trusted chains)',
    )
    .option(
      '--key-types <list>',
      'dual-certificate server: check the certificate of each key type (rsa, ecdsa, ed25519; comma-separated)',
      collect,
    )
    .option(
      '--client-cert <pem>',
      'client certificate (PEM; may hold the key too) for servers that require one',
    )
    .option('--client-key <pem>', 'private key of --client-cert (PEM, unencrypted)')
    .option(
      '--dane',
      'TLSA records at _PORT._tcp.HOST (RFC 6698/7671; RFC 7672 with --starttls smtp) must exist, be ' +
        'DNSSEC-validated (AD from the --resolver, which must validate) and match the presented chain',
    )
    .option('--require-no-tls1', 'CRITICAL when the server accepts TLS 1.0 (one more connection)')
    .option('--require-no-tls1_1', 'CRITICAL when the server accepts TLS 1.1 (one more connection)')
    .option(
      '--min-tls <version>',
      'CRITICAL when the server accepts a version below this: 1.0, 1.1, 1.2 or 1.3 (one connection per version below)',
    )
    .option(
      '--weak-ciphers <level>',
      'probe for weak suites (one more connection): NULL, anonymous, EXPORT are CRITICAL; RC4, DES, 3DES are WARNING (warning) or CRITICAL (critical); off (default) sends no probe',
    )
    .option('--json', 'print one JSON object instead of the plugin text')
    .action(async (target: string | undefined, flags: EndpointFlags) => {
      const startedAt = Date.now();
      let store: Store | undefined;
      try {
        // Everything the user gave is checked before the log list is loaded or the store opened.
        const spec = specFromFlags(target, flags);
        checkResolvers(flags.resolver);
        if (spec.caFile !== undefined) await checkCaFile(spec.caFile);
        if (spec.clientCert !== undefined) await readClientCert(spec.clientCert, spec.clientKey);
        await checkLogListFile(flags.logList);
        checkDatabaseUrl(flags.database);
        if (!flags.database) await checkStateDir(flags.stateDir);
        store = await openStoreIfAsked(flags);
        const options = await buildOptions(spec, {
          ...sharedLoaders(flags.logList, flags.database ? undefined : flags.stateDir),
          startedAt,
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
        // Ours or a coded environment error (ENOENT…): UNKNOWN with its message; else a bug.
        if (!hasErrorCode(e)) throw e;
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
  registerCheckInternal(check, ctx);

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
        'Entry keys: target starttls sni connectTo proxy noProxy family caFile pins expectIssuer expectCaa caaIdentifiers\n' +
        'ctPolicy minScts ctProof requireCt crtsh certspotter warning critical minRsaBits timeout dane\n' +
        'revocation revocationUnreachable\n' +
        'keyTypes ([rsa, ecdsa]) clientCert clientKey\n' +
        'requireNoTls1 requireNoTls1_1 minTls ("1.2") weakCiphers (warning|critical|off).\n\n' +
        'Output: first the overall status line (the worst endpoint; Nagios and Icinga show only this line),\n' +
        'with perfdata counting each status, then one status line per endpoint; or --json: one object per line.\n' +
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
        for (const sp of specs)
          if (sp.clientCert !== undefined) await readClientCert(sp.clientCert, sp.clientKey);
        await checkLogListFile(config.logList);
        checkDatabaseUrl(config.database);
        if (!config.database) await checkStateDir(config.stateDir);
        store = await openStoreIfAsked(config);
        const shared: Shared = {
          ...sharedLoaders(config.logList, config.database ? undefined : config.stateDir),
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
              // Ours or a coded environment error (ENOENT…): UNKNOWN with its message; else a bug.
              if (!hasErrorCode(e)) throw e;
              results[i] = { target: spec.target, status: 'UNKNOWN', error: e.message };
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
        const counts: Record<PluginStatus, number> = { OK: 0, WARNING: 0, CRITICAL: 0, UNKNOWN: 0 };
        for (const r of results) counts[r.status]++;
        const worst = worstStatus(results.map((r) => r.status));
        if (flags.json) for (const r of results) process.stdout.write(`${safeJson(r.result ?? r)}\n`);
        else {
          // The overall line first: Nagios and Icinga take the first line as the service's status.
          const bad = results.filter((r) => r.status !== 'OK').map((r) => `${r.target} ${r.status}`);
          const perf = `ok=${counts.OK};;;0 warning=${counts.WARNING};;;0 critical=${counts.CRITICAL};;;0 unknown=${counts.UNKNOWN};;;0`;
          const text = `${results.length} endpoints: ${counts.OK} OK, ${counts.WARNING} WARNING, ${counts.CRITICAL} CRITICAL, ${counts.UNKNOWN} UNKNOWN${
            bad.length > 0
              ? ` (${bad.slice(0, 5).join(', ')}${bad.length > 5 ? `, +${bad.length - 5} more` : ''})`
              : ''
          }`;
          process.stdout.write(`CERTVIGIL ${worst} - ${statusText(text)} | ${perf}\n`);
          for (const r of results)
            process.stdout.write(
              r.result
                ? `${r.result.status}: ${statusText(r.result.summary)}\n`
                : `UNKNOWN: ${statusText(`${r.target}: ${r.error ?? ''}`)}\n`,
            );
        }
        ctx.setExit(pluginExit(worst));
      } catch (e) {
        // Ours or a coded environment error (ENOENT…): UNKNOWN with its message; else a bug.
        if (!hasErrorCode(e)) throw e;
        process.stdout.write(unknownStatusLine(e.message));
        ctx.setExit(EXIT.UNKNOWN);
      } finally {
        await store?.close();
      }
    });
}
