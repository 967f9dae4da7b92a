/**
 * @module cli/commands/serve
 * `certvigil serve --listen HOST:PORT --state-dir DIR | --database URL [--tls-cert F --tls-key F]
 * [--insecure-http] [--config F] [--audit-interval D]`: the web dashboard, the HTTP API and
 * /metrics over the monitor's store, until SIGTERM/SIGINT (exit 0). Also what `monitor --serve`
 * runs inside the daemon (`prepareServe` + `startServe`).
 *
 * Every flag and file is checked before the store is opened: a usage error (exit 2, one line)
 * creates nothing. The state must exist (the monitor creates it); the server opens it read-write
 * (it keeps tokens, sessions and CAA audits) but never takes the monitor's run lock.
 */
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Command } from 'commander';
import { buildReport, caaIdentifiersForIssuer, collectAudit, knownCaaIssuers } from '../../caa/index.js';
import { loadResolvConf, parseEndpoint, StubResolver, formatEndpoint } from '../../dns/index.js';
import { CertvigilError, hasErrorCode } from '../../errors.js';
import type { MonitorConfig, WatchList } from '../../monitor/index.js';
import { sanitizeText } from '../../sanitize.js';
import { AUDIT_INTERVAL_MS, createApp, listen, startAuditSchedule } from '../../server/index.js';
import type { ServerCapabilities, ServerDeps } from '../../server/index.js';
import type { Store } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { parseDuration } from '../flags.js';
import type { Logger } from '../logger.js';
import { addStateOptions, loadConfig, loadWatchList, openConfiguredStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { parseListen, readInputFile } from './iodef-flags.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

/** The flags `serve` and `monitor --serve` share. */
export interface ServeFlags {
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  auditInterval?: string;
}

/** Everything checked, ready to listen. */
export interface ServeSettings {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  auditIntervalMs: number;
}

/**
 * A loopback address: IPv4 127.0.0.0/8 (RFC 1122 §3.2.1.3), `::1` (RFC 4291 §2.5.3), IPv4-mapped
 * loopback, or the name `localhost` (RFC 6761 §6.3: resolves to loopback only). Any other name may
 * resolve to anything, so it counts as non-loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6)
    return h === '::1' || /^(?:0{0,4}:){0,5}:?ffff:127\./.test(h) || /^(0{1,4}:){7}0{0,3}1$/.test(h);
  return false;
}

/** Adds the serving flags (`--listen` is the command's own: `serve --listen`, `monitor --serve`). */
export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--tls-cert <file>', 'PEM certificate chain: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--insecure-http',
      'allow plain HTTP on a non-loopback address (tokens and session cookies then cross the network in clear)',
    )
    .option(
      '--audit-interval <duration>',
      'time between CAA audits of every watched domain, e.g. 6h (bare number: hours; 1m to 30d; default 6h)',
    );
}

/** Checks the serving flags and reads the TLS files; a problem is a usage error, before anything is opened. */
export async function prepareServe(
  listenValue: string,
  flags: ServeFlags,
  listenFlag = '--listen',
): Promise<ServeSettings> {
  const at = parseListen(listenValue, listenFlag);
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey))
    throw new CertvigilError('USAGE', '--tls-cert and --tls-key go together');
  if (!flags.tlsCert && !flags.insecureHttp && !isLoopbackHost(at.host))
    throw new CertvigilError(
      'USAGE',
      `${listenFlag} ${sanitizeText(at.host, { maxLength: 80 })} is not a loopback address: give --tls-cert and --tls-key, or --insecure-http to serve plain HTTP anyway`,
    );
  const auditIntervalMs =
    flags.auditInterval === undefined
      ? AUDIT_INTERVAL_MS
      : parseDuration(flags.auditInterval, '--audit-interval', {
          unit: 'h',
          minMs: 60_000,
          maxMs: 30 * 86_400_000,
        });
  let tls: ServeSettings['tls'];
  if (flags.tlsCert && flags.tlsKey) {
    tls = {
      cert: await readInputFile(flags.tlsCert, '--tls-cert', { pem: true }),
      key: await readInputFile(flags.tlsKey, '--tls-key', { pem: true }),
    };
    try {
      // Fails on a key that does not match the certificate, or either unparsable.
      createSecureContext(tls);
    } catch (err) {
      throw new CertvigilError(
        'USAGE',
        `--tls-cert/--tls-key: ${sanitizeText((err as Error).message, { maxLength: 200 })}`,
      );
    }
  }
  return { host: at.host, port: at.port, ...(tls ? { tls } : {}), auditIntervalMs };
}

/**
 * Opens the configured store read-write, refusing a state that does not exist yet (the monitor
 * creates it; an empty state would only serve an empty dashboard). A state of an older schema is
 * upgraded, as every writer does.
 */
export async function openExistingStore(
  config: Pick<MonitorConfig, 'stateDir' | 'database'>,
): Promise<Store> {
  try {
    await (await openConfiguredStore(config, { readOnly: true })).close();
  } catch (err) {
    if (!(hasErrorCode(err) && err.code === 'STORE_MIGRATION')) throw err;
  }
  return openConfiguredStore(config);
}

/**
 * The CAA audit of one domain (`caa audit` with its defaults, `--json` shape), through the config's
 * `caaResolver` or /etc/resolv.conf; undefined with `caaResolver: false` (that config asks for no
 * CAA lookups). The issuers CT showed for the domain (its newest 1000 issuances) feed `unused-ca`.
 */
export async function auditCapability(
  config: Pick<MonitorConfig, 'caaResolver'>,
  store: Store,
): Promise<ServerCapabilities['auditDomain']> {
  if (config.caaResolver === false) return undefined;
  const resolver =
    typeof config.caaResolver === 'string'
      ? new StubResolver({ servers: config.caaResolver.split(',').map((s) => parseEndpoint(s)) })
      : await (async () => {
          const conf = await loadResolvConf();
          return new StubResolver({
            servers: conf.servers,
            timeoutMs: conf.timeoutMs,
            attempts: conf.attempts,
          });
        })();
  return async (domain: string): Promise<unknown> => {
    const data = await collectAudit(domain, {
      resolver,
      nsPort: 53,
      timeoutMs: 3_000,
      resolverLabel: resolver.servers.map(formatEndpoint).join(', '),
      // As `caa audit`: one attempt per authoritative server, a silent one is a finding.
      directClient: (host, port, ms) =>
        new StubResolver({ servers: [{ host, port }], timeoutMs: ms, attempts: 1 }),
    });
    let seen: string[] | null = null;
    if (data.exists && data.zone !== null) {
      const recent = await store.pageIssuances({ name: data.domain, order: 'desc', limit: 1000 });
      seen = [...new Set(recent.flatMap((i) => caaIdentifiersForIssuer(i.issuer)))];
    }
    return buildReport(data, {
      acmeMethod: null,
      usesWildcards: false,
      seenIssuers: seen,
      knownIssuers: knownCaaIssuers(),
    });
  };
}

/** The domains of a watch list (`.example.com` and `example.com` both give `example.com`; `.` none). */
export function domainsOf(list: WatchList): string[] {
  return [...new Set(list.entries.map((e) => e.replace(/^\./, '')).filter((e) => e !== ''))];
}

/**
 * `serve`'s capabilities from the monitor config: the watch list (re-read on each use, as the
 * daemon does) and the CAA audit. Without `--config` (or a config naming nothing to watch) there
 * is neither.
 */
export async function capabilitiesFor(
  config: MonitorConfig,
  configPath: string | undefined,
  store: Store,
): Promise<ServerCapabilities> {
  if (configPath === undefined || (config.names.length === 0 && config.watchlistFile === null)) return {};
  // Read once now, so that a broken watch list is a usage error at start rather than later.
  await loadWatchList(config, configPath);
  const watchedDomains = async (): Promise<string[]> => domainsOf(await loadWatchList(config, configPath));
  const auditDomain = await auditCapability(config, store);
  return auditDomain ? { watchedDomains, auditDomain } : { watchedDomains };
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Builds the app over `store`, listens, and starts the audit schedule when audits are configured. */
export async function startServe(
  settings: ServeSettings,
  store: Store,
  capabilities: ServerCapabilities,
  logger: Logger,
): Promise<RunningServer> {
  const deps: ServerDeps = { store, logger, secureCookies: settings.tls !== undefined, ...capabilities };
  const server = await listen(createApp(deps), {
    host: settings.host,
    port: settings.port,
    ...(settings.tls ? { tls: settings.tls } : {}),
  }).catch((err: unknown) => {
    // A port in use, an address not on this host, no permission: the operator's to fix (exit 2).
    const e = err as NodeJS.ErrnoException;
    throw new CertvigilError(
      'USAGE',
      `cannot listen on ${sanitizeText(settings.host, { maxLength: 80 })}:${settings.port}: ${e.code ?? sanitizeText(e.message ?? String(err))}`,
    );
  });
  const schedule =
    capabilities.watchedDomains && capabilities.auditDomain
      ? startAuditSchedule({
          store,
          logger,
          watchedDomains: capabilities.watchedDomains,
          auditDomain: capabilities.auditDomain,
          intervalMs: settings.auditIntervalMs,
        })
      : null;
  logger.info({ url: server.url }, 'serving the dashboard and the HTTP API');
  return {
    url: server.url,
    async close() {
      await schedule?.stop();
      await server.close();
    },
  };
}

export function registerServe(program: Command, ctx: Ctx): void {
  addServeOptions(
    addStateOptions(
      program
        .command('serve')
        .summary('web dashboard, HTTP API (/api/v1) and Prometheus /metrics over the monitor state')
        .description(
          "Serve the monitor's state: the dashboard, the HTTP API under /api/v1 (OpenAPI at /api/v1/openapi.json)\n" +
            'and /metrics, every route but /healthz behind a token (`certvigil token create`) or a login. Runs beside\n' +
            '`certvigil monitor` on the same state (or inside it: `monitor --serve`), until SIGTERM or SIGINT.\n\n' +
            'A non-loopback --listen address needs --tls-cert/--tls-key, or --insecure-http. With --config, the\n' +
            "watch list's domains are listed with their CAA audit, refreshed every --audit-interval (not with\n" +
            '`caaResolver: false`). The state must exist: run `certvigil monitor` first.',
        ),
    ).requiredOption(
      '--listen <host:port>',
      'address and port to serve on, e.g. 127.0.0.1:8080 or [::1]:8443',
    ),
  )
    .addHelpText(
      'after',
      '\nExit status: 0 stopped by SIGTERM/SIGINT, 2 a usage error (bad flag or file, non-loopback address\n' +
        'without TLS or --insecure-http, no certvigil state yet: nothing is created) or it cannot listen or\n' +
        'open the state.',
    )
    .action(async (flags: MonitorFlags & ServeFlags & { listen: string }) => {
      const settings = await prepareServe(flags.listen, flags);
      const config = await loadConfig(flags);
      // Handlers first: a signal that arrives while starting (or right after the "serving on" line,
      // which a supervisor may wait for) still closes cleanly instead of killing the process.
      let stop = (): void => undefined;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const store = await openExistingStore(config);
      try {
        const capabilities = await capabilitiesFor(config, flags.config, store);
        const server = await startServe(settings, store, capabilities, ctx.logger);
        process.stderr.write(`certvigil: serving on ${server.url}\n`);
        await stopped;
        await server.close();
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await store.close();
      }
      ctx.setExit(EXIT.OK);
    });
}
