/**
 * A real DNS stack on loopback ports for integration tests of the CAA checker (RFC 8659):
 *
 *   tests ──► Unbound (validating resolver, trust anchor for caa.test.)
 *                ├─ stub "." and "test." ──► Knot: test., caa.test. (signed, the vector records),
 *                │                            signed/ok/expired/missing.signed.caa.test.,
 *                │                            servfail.caa.test. (broken zone file → SERVFAIL)
 *                ├─ stub refused.caa.test. ──► NSD, which has no zones (→ REFUSED)
 *                └─ stub blackhole.caa.test. ──► a Node socket that never answers
 *
 * Everything (configs, zones, keys, databases, PID files, sockets, logs) lives in a fresh temporary
 * work directory, nothing listens or is contacted anywhere but 127.0.0.1, and `stop()` (or the exit
 * handlers / watchdog in processes.ts if the test process dies) removes it all.
 *
 * Needs these Debian 12 packages: knot (knotd), nsd, unbound (unbound, unbound-checkconf),
 * ldnsutils (ldns-keygen, ldns-key2ds, ldns-signzone). None of their system services need to run.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  Daemon,
  LOOPBACK,
  Watchdog,
  installExitHandlers,
  runTool,
  startWithPortRetry,
  tailFile,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';
import { BROKEN_ZONE, buildZones, loadVectorRecords } from './zones.js';
import { Blackhole } from './blackhole.js';
import { queryDns } from './raw-query.js';

export { queryDns } from './raw-query.js';
export type { DnsResponse } from './raw-query.js';

export interface DnsEndpoint {
  host: string;
  port: number;
}

export interface DnsStack {
  /** Validating Unbound: what tests point the CAA checker at. */
  resolver: DnsEndpoint;
  /** Knot, authoritative for test., caa.test. and the zones below it. */
  authoritative: DnsEndpoint;
  /** UDP+TCP socket that accepts queries and never answers. */
  blackhole: DnsEndpoint;
  workDir: string;
  /** Kills every process, closes the sockets, removes workDir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface DnsStackOptions {
  /** Extra zone-file lines appended to zone caa.test. (owner names relative to caa.test., e.g. 'foo CAA 0 issue "x.example"') */
  extraRecords?: string[];
  /** Extra zone-file lines appended to the unsigned zone test. (owner names relative to test.): answers without AD. */
  insecureRecords?: string[];
}

const VECTORS_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'caa-cases.json');

/** Overall bound for one daemon to answer after it was spawned. */
const READY_TIMEOUT_MS = 15_000;

export async function startDnsStack(options: DnsStackOptions = {}): Promise<DnsStack> {
  installExitHandlers();
  const workDir = await mkdtemp(join(tmpdir(), 'certvigil-dns-'));
  trackWorkDir(workDir);
  const watchdog = new Watchdog(workDir);
  const daemons: Daemon[] = [];
  let blackhole: Blackhole | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await watchdog.release();
      await Promise.all(daemons.map((d) => d.stop()));
      await blackhole?.close();
      await rm(workDir, { recursive: true, force: true });
      untrackWorkDir(workDir);
    })());

  const launch = (...args: ConstructorParameters<typeof Daemon>): Daemon => {
    // A start-up step still running after a sibling failed must not leave a daemon behind.
    if (stopped !== undefined) throw new Error('DNS stack is stopping');
    const daemon = new Daemon(...args);
    daemons.push(daemon);
    if (daemon.pid > 0) watchdog.watch(daemon.pid);
    return daemon;
  };

  try {
    const zones = await buildZones(
      join(workDir, 'zones'),
      await loadVectorRecords(VECTORS_FILE),
      options.extraRecords ?? [],
      options.insecureRecords ?? [],
    );
    const hole = await Blackhole.start();
    blackhole = hole;
    // Knot and NSD start in parallel; wait for both before judging, so that nothing is still
    // starting when a failure makes us stop().
    const [knot, nsd] = await Promise.allSettled([
      startWithPortRetry((port) => startKnot(workDir, port, zones.knotZones, launch), isPortClash),
      startWithPortRetry((port) => startNsd(workDir, port, launch), isPortClash),
    ]);
    if (knot.status === 'rejected') throw knot.reason;
    if (nsd.status === 'rejected') throw nsd.reason;
    const unboundPort = await startWithPortRetry(
      (port) =>
        startUnbound(workDir, launch, {
          port,
          knotPort: knot.value,
          nsdPort: nsd.value,
          blackholePort: hole.port,
          trustAnchor: zones.trustAnchor,
        }),
      isPortClash,
    );
    return {
      resolver: { host: LOOPBACK, port: unboundPort },
      authoritative: { host: LOOPBACK, port: knot.value },
      blackhole: { host: LOOPBACK, port: hole.port },
      workDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Daemons

type Launch = (...args: ConstructorParameters<typeof Daemon>) => Daemon;

class DaemonStartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
    this.name = 'DaemonStartError';
  }
}

function isPortClash(err: unknown): boolean {
  return err instanceof DaemonStartError && err.portClash;
}

/** Thrown by a readiness probe when waiting longer cannot help (e.g. a zone failed to load). */
class ProbeFailed extends Error {}

/**
 * Polls `probe` until it returns true, the daemon exits, or READY_TIMEOUT_MS passes. On failure the
 * daemon is stopped and the error carries the tail of its output and log.
 */
async function waitUntilReady(daemon: Daemon, what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  let gaveUp = false;
  while (!gaveUp && daemon.running && Date.now() < deadline) {
    try {
      if (await probe()) return;
      lastProblem = 'answered, but not as expected yet';
    } catch (err) {
      lastProblem = (err as Error).message;
      gaveUp = err instanceof ProbeFailed;
    }
    if (!gaveUp) await sleep(25);
  }
  const exited = !daemon.running;
  await daemon.stop();
  const logs = daemon.describeLogs();
  const state = exited
    ? 'exited during start-up'
    : gaveUp
      ? `failed: ${lastProblem}`
      : `not ready after ${READY_TIMEOUT_MS} ms (${lastProblem})`;
  throw new DaemonStartError(
    `${daemon.name}: ${what} ${state}\n${logs}`,
    exited && /address already in use|EADDRINUSE|cannot bind|can't bind|failed to bind/i.test(logs),
  );
}

/**
 * Knot serves every zone that has real data. One instance for parents and children is fine: for a
 * DS query Knot looks the zone up from the parent of the QNAME (knotd's answer_zone_find), so DS
 * records come from the parent zone even though the child apex is also served here (the test checks).
 */
async function startKnot(
  workDir: string,
  port: number,
  zones: ReadonlyMap<string, string>,
  launch: Launch,
): Promise<number> {
  const dir = join(workDir, `knot-${port}`);
  await mkdir(join(dir, 'db'), { recursive: true });
  const conf = join(dir, 'knot.conf');
  const zoneEntries = [...zones].map(([domain, file]) => `  - domain: ${domain}\n    file: "${file}"`);
  await writeFile(
    conf,
    `# Generated by test/harness/dns-stack.ts
server:
  listen: ${LOOPBACK}@${port}
  # Everything under the work dir: without these knotd uses /run/knot and /var/lib/knot.
  rundir: "${dir}"
  pidfile: "${dir}/knot.pid"
  # Default is root:root, which a non-root user cannot switch to; stay who we are.
  user: ${userInfo().username}
  # Few threads: this serves a test suite, and CI machines are small.
  udp-workers: 1
  tcp-workers: 2
  background-workers: 1
  identity: ""
  version: ""
  nsid: ""

control:
  listen: "${dir}/knot.sock"

database:
  storage: "${dir}/db"
  # LMDB maps this much virtual memory; the default 20 GiB can fail under a ulimit.
  journal-db-max-size: 64M
  kasp-db-max-size: 16M
  timer-db-max-size: 16M
  catalog-db-max-size: 16M

log:
  - target: stderr
    any: info

template:
  - id: default
    # Serve the files as they are: no journal, never write back, no automatic signing.
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off

zone:
${zoneEntries.join('\n')}
`,
  );
  const daemon = launch(
    'knotd',
    '/usr/sbin/knotd',
    ['-c', conf, '-s', join(dir, 'knot.sock')],
    dir,
    join(dir, 'knotd.out'),
  );
  const server = { host: LOOPBACK, port };
  const loaded = [...zones.keys()].filter((z) => z !== BROKEN_ZONE);
  await waitUntilReady(daemon, 'zones', async () => {
    // Ready when every good zone answers its SOA authoritatively and the broken one gives SERVFAIL.
    const answers = await Promise.all(
      loaded.map((zone) =>
        queryDns(server, zone, 'SOA', { recursionDesired: false, dnssecOk: false, timeoutMs: 200 }),
      ),
    );
    const broken = await queryDns(server, BROKEN_ZONE, 'SOA', {
      recursionDesired: false,
      dnssecOk: false,
      timeoutMs: 200,
    });
    const failed = loaded.filter((_, i) => answers[i]?.rcode === 'SERVFAIL');
    const log = tailFile(daemon.outputFile, 10_000);
    for (const zone of failed) {
      // Knot keeps running when a zone does not load; do not wait for it (e.g. bad extraRecords).
      if (log.includes(`[${zone}] zone event 'load' failed`))
        throw new ProbeFailed(`zone ${zone} did not load`);
    }
    return answers.every((a) => a.rcode === 'NOERROR' && a.packet.flag_aa) && broken.rcode === 'SERVFAIL';
  });
  return port;
}

/** NSD with no zones at all: it answers REFUSED for everything, which is what refused.caa.test. needs. */
async function startNsd(workDir: string, port: number, launch: Launch): Promise<number> {
  const dir = join(workDir, `nsd-${port}`);
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'nsd.conf');
  await writeFile(
    conf,
    `# Generated by test/harness/dns-stack.ts
server:
  ip-address: ${LOOPBACK}
  port: ${port}
  do-ip6: no
  # No privilege drop, no chroot, no files under /var/lib/nsd or /run/nsd.
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  logfile: "${dir}/nsd.log"
  server-count: 1
  hide-version: yes
  hide-identity: yes
  verbosity: 1

remote-control:
  control-enable: no
`,
  );
  const daemon = launch(
    'nsd',
    '/usr/sbin/nsd',
    ['-d', '-c', conf],
    dir,
    join(dir, 'nsd.out'),
    join(dir, 'nsd.log'),
  );
  await waitUntilReady(daemon, 'REFUSED answers', async () => {
    const answer = await queryDns({ host: LOOPBACK, port }, 'refused.caa.test.', 'SOA', { timeoutMs: 200 });
    return answer.rcode === 'REFUSED';
  });
  return port;
}

interface UnboundSettings {
  port: number;
  knotPort: number;
  nsdPort: number;
  blackholePort: number;
  trustAnchor: string;
}

/**
 * Options that not every build knows: upstream added them in 1.21 and Debian 12 backported them to
 * 1.17.1 with the DNSBomb fix (CVE-2024-33655, 1.17.1-2+deb12u3). Each is written only if this
 * machine's unbound-checkconf accepts it.
 */
const OPTIONAL_UNBOUND_OPTIONS = [
  // Default 1900 ms: a client whose query takes longer gets NO reply at all (the query keeps going
  // inside). A blackhole lookup takes ~2-3 s, so the checker would see a timeout instead of SERVFAIL.
  'discard-timeout: 0',
  // Tests fire many queries at once from one address; do not rate-limit them.
  'wait-limit: 0',
];

async function supportedUnboundOptions(dir: string): Promise<string[]> {
  const results = await Promise.all(
    OPTIONAL_UNBOUND_OPTIONS.map(async (option, i) => {
      const file = join(dir, `probe-${i}.conf`);
      await writeFile(file, `server:\n  username: ""\n  chroot: ""\n  directory: "${dir}"\n  ${option}\n`);
      try {
        await runTool('unbound-checkconf', [file], dir);
        return option;
      } catch {
        return undefined;
      }
    }),
  );
  return results.filter((o): o is string => o !== undefined);
}

async function startUnbound(workDir: string, launch: Launch, s: UnboundSettings): Promise<number> {
  const dir = join(workDir, `unbound-${s.port}`);
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'unbound.conf');
  const optional = await supportedUnboundOptions(dir);
  // ldns-key2ds prints "owner TTL IN DS <rdata>"; keep the rdata.
  const anchorFields = s.trustAnchor.split(/\s+/);
  const anchorRdata = anchorFields.slice(anchorFields.indexOf('DS') + 1);
  await writeFile(
    conf,
    `# Generated by test/harness/dns-stack.ts
server:
  verbosity: 1
  num-threads: 1
  interface: ${LOOPBACK}@${s.port}
  # Send queries from 127.0.0.1 only: even a stray query for a public name cannot leave the host.
  outgoing-interface: ${LOOPBACK}
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  so-reuseport: no
  access-control: 127.0.0.0/8 allow

  # Everything in the work dir; no privilege drop, no chroot, no syslog.
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  logfile: "${dir}/unbound.log"
  use-syslog: no
  log-time-ascii: yes
  log-servfail: yes

  # Our authoritatives are on 127.0.0.1, which Unbound refuses to query by default.
  do-not-query-localhost: no
  # test. is a built-in local zone (RFC 6761 reserved name) that Unbound answers NXDOMAIN for itself.
  local-zone: "test." nodefault

  # Validation. The only trust anchor is the KSK of caa.test.: test. is unsigned (nothing above
  # caa.test. could be validated without a root we control), so the chain of trust starts at
  # caa.test. and answers there and below come back with AD. No root anchor, no RFC 5011 file.
  module-config: "validator iterator"
  trust-anchor: "caa.test. DS ${anchorRdata.join(' ')}"
  trust-anchor-signaling: no
  root-key-sentinel: no
  # RFC 8914 Extended DNS Errors: the checker tells DNSSEC-bogus from other failures by them.
  # With val-log-level 2, non-cached DNSSEC failures also carry a reason text.
  ede: yes
  val-log-level: 2

  # Fail fast on a server that never answers: give up once the retransmit timeout reaches 1 s
  # (default 2 min), so blackhole.caa.test. gives SERVFAIL after ~2.3 s. infra-keep-probing stays
  # off: later queries then get SERVFAIL at once while the server is marked down (infra-host-ttl).
  infra-cache-max-rtt: 1000
  infra-host-ttl: 60
  # Do not cache bogus answers. A cached bogus answer carries only EDE 6 "DNSSEC Bogus" with no
  # text, while a fresh validation gives the specific code (7 Signature Expired, 9 DNSKEY Missing):
  # with caching, the EDE a test sees would depend on which test asked first.
  val-bogus-ttl: 0
  # The zones never change while a stack runs, but keep negative answers short-lived anyway.
  cache-max-negative-ttl: 5
  # Fewer upstream queries and simpler logs; the authoritatives here are all ours.
  qname-minimisation: no
  prefetch: no
  serve-expired: no
${optional.map((o) => `  ${o}`).join('\n')}

remote-control:
  control-enable: no

# NS records cannot carry a port, so every server is reached through a stub-zone with an explicit
# 127.0.0.1@port. The stub for "." also means Unbound never contacts the real root servers: any
# name outside test. goes to Knot and gets REFUSED.
stub-zone:
  name: "."
  stub-addr: ${LOOPBACK}@${s.knotPort}
stub-zone:
  name: "test."
  stub-addr: ${LOOPBACK}@${s.knotPort}
stub-zone:
  name: "refused.caa.test."
  stub-addr: ${LOOPBACK}@${s.nsdPort}
stub-zone:
  name: "blackhole.caa.test."
  stub-addr: ${LOOPBACK}@${s.blackholePort}
`,
  );
  // A config error is clearer from unbound-checkconf than from the daemon's log.
  await runTool('unbound-checkconf', [conf], dir);
  const daemon = launch(
    'unbound',
    '/usr/sbin/unbound',
    ['-d', '-c', conf],
    dir,
    join(dir, 'unbound.out'),
    join(dir, 'unbound.log'),
  );
  const resolver = { host: LOOPBACK, port: s.port };
  await waitUntilReady(daemon, 'validated answer', async () => {
    // Any answer proves it listens; AD on the caa.test. SOA proves the trust anchor and Knot work.
    const answer = await queryDns(resolver, 'caa.test.', 'SOA', { timeoutMs: 250 });
    if (answer.rcode === 'NOERROR' && answer.packet.flag_ad) return true;
    throw new Error(`caa.test. SOA: ${answer.rcode}, AD=${answer.packet.flag_ad} (expected NOERROR with AD)`);
  });
  return s.port;
}
