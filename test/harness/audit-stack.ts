/**
 * A DNS stack for `caa audit`: several authoritative servers for the zones below `test.`, each
 * reachable "directly" at its own glue address on port 53 (NS records cannot carry ports), plus a
 * validating Unbound on 127.0.0.1 that finds zone cuts, name servers and addresses by iterating.
 *
 *   127.0.0.2:53  Knot "a"  test. (signed, the trust anchor) and every child zone
 *   127.0.0.3:53  Knot "b"  ok.test., nocaa.test. (same files as "a": the two agree)
 *   127.0.0.4:53  Knot "c"  disagree.test. with a DIFFERENT CAA RRset          → ns-disagree
 *   127.0.0.5:53  NSD without zones (REFUSED)                                   → ns-refused
 *   127.0.0.6:53  a Node UDP/TCP socket that never answers                      → ns-timeout
 *   127.0.0.7:53  a hand-written server that answers only lower-case QNAMEs     → ns-case-mishandled
 *                 (no packaged DNS server has that bug, so it is simulated; NXDOMAIN otherwise)
 *
 *   zones: ok.test. (signed, DS in test., CAA issue "letsencrypt.org" only), nocaa.test. (unsigned,
 *   no CAA), disagree.test., refused.test., timeout.test., case.test. (unsigned),
 *   bogus.test. (DS in test., signatures expired in 2020 → bogus),
 *   noaddr.test. (one NS, ghost.ns.test., has no address at all                → ns-no-address)
 *   Names that do not exist (nosuch.test., typo.ok.test.) are NXDOMAIN        → domain-not-found
 *
 * Binding 127.0.0.x:53 needs root (or CAP_NET_BIND_SERVICE); `canRunAuditStack()` says why not.
 * Debian packages: knot, nsd, unbound, ldnsutils.
 */
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import dnsPacket from 'dns-packet';
import {
  Daemon,
  LOOPBACK,
  Watchdog,
  installExitHandlers,
  runTool,
  startWithPortRetry,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';
import { queryDns } from './raw-query.js';
import { EXPIRED_WINDOW, generateKeys, signZone, validWindow } from './zones.js';

export const ADDR = {
  a: '127.0.0.2',
  b: '127.0.0.3',
  c: '127.0.0.4',
  refused: '127.0.0.5',
  hole: '127.0.0.6',
  caseBug: '127.0.0.7',
} as const;

export interface AuditStack {
  resolver: { host: string; port: number };
  workDir: string;
  stop(): Promise<void>;
}

/** Null when the stack can run here, else the reason (for `describe.skipIf`). */
export function canRunAuditStack(): string | null {
  if (process.platform !== 'linux') return 'audit stack needs Linux (127.0.0.0/8 on lo)';
  if (userInfo().uid !== 0) return 'audit stack binds 127.0.0.2-7 port 53: needs root';
  for (const bin of ['/usr/sbin/knotd', '/usr/sbin/nsd', '/usr/sbin/unbound'])
    if (!existsSync(bin)) return `${bin} missing (Debian packages knot, nsd, unbound, ldnsutils)`;
  return null;
}

const LE = 'CAA 0 issue "letsencrypt.org"';

function zone(origin: string, ns: string[], records: string[]): string {
  return [
    `$ORIGIN ${origin}`,
    '$TTL 300',
    `@ SOA a.ns.test. hostmaster.test. 1 3600 600 86400 5`,
    ...ns.map((n) => `@ NS ${n}.ns.test.`),
    ...records,
    '',
  ].join('\n');
}

const CHILDREN: Record<string, { ns: string[]; records: string[] }> = {
  'ok.test.': { ns: ['a', 'b'], records: [`@ ${LE}`, `www ${LE}`] },
  'nocaa.test.': { ns: ['a', 'b'], records: ['www A 192.0.2.1'] },
  'disagree.test.': { ns: ['a', 'c'], records: [`@ ${LE}`] },
  'refused.test.': { ns: ['a', 'refused'], records: [`@ ${LE}`] },
  'timeout.test.': { ns: ['a', 'hole'], records: [`@ ${LE}`] },
  'case.test.': { ns: ['a', 'casebug'], records: [`@ ${LE}`] },
  'bogus.test.': { ns: ['a'], records: [`@ ${LE}`] },
  // ghost.ns.test. has no A/AAAA record in test.: a name server nobody can ask.
  'noaddr.test.': { ns: ['a', 'ghost'], records: [`@ ${LE}`] },
};

/**
 * The fixed addresses 127.0.0.2-7:53 allow one stack per machine, but vitest runs test files in
 * parallel forks (and Knot binds with SO_REUSEPORT, so a clash would not even fail loudly): a lock
 * directory serialises stacks across processes. A lock whose owner died is taken over.
 */
const LOCK_DIR = join(tmpdir(), 'certvigil-audit-stack.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquireLock(timeoutMs = 180_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      const release = (): void => {
        process.off('exit', release);
        rmSync(LOCK_DIR, { recursive: true, force: true });
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
    } catch {
      // being written or removed right now
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner))
      rmSync(LOCK_DIR, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`audit stack: ${LOCK_DIR} held by pid ${owner} for too long`);
    await sleep(100);
  }
}

export async function startAuditStack(): Promise<AuditStack> {
  const why = canRunAuditStack();
  if (why !== null) throw new Error(why);
  installExitHandlers();
  const releaseLock = await acquireLock();
  let workDir: string;
  try {
    workDir = await mkdtemp(join(tmpdir(), 'certvigil-audit-'));
  } catch (err) {
    releaseLock();
    throw err;
  }
  trackWorkDir(workDir);
  const watchdog = new Watchdog(workDir);
  const daemons: Daemon[] = [];
  const closers: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await watchdog.release();
      await Promise.all(daemons.map((d) => d.stop()));
      await Promise.all(closers.map((c) => c()));
      await rm(workDir, { recursive: true, force: true });
      untrackWorkDir(workDir);
      releaseLock();
    })());
  const launch = (...args: ConstructorParameters<typeof Daemon>): Daemon => {
    const d = new Daemon(...args);
    daemons.push(d);
    if (d.pid > 0) watchdog.watch(d.pid);
    return d;
  };
  try {
    const zdir = join(workDir, 'zones');
    await mkdir(zdir, { recursive: true });
    const [testKeys, okKeys, bogusKeys] = await Promise.all([
      generateKeys(zdir, 'test.'),
      generateKeys(zdir, 'ok.test.'),
      generateKeys(zdir, 'bogus.test.'),
    ]);
    const files = new Map<string, string>();
    const write = async (name: string, text: string): Promise<string> => {
      const f = join(zdir, name);
      await writeFile(f, text);
      return f;
    };
    const parentRecords = [
      'a.ns A 127.0.0.2',
      'b.ns A 127.0.0.3',
      'c.ns A 127.0.0.4',
      'refused.ns A 127.0.0.5',
      'hole.ns A 127.0.0.6',
      'casebug.ns A 127.0.0.7',
      ...Object.entries(CHILDREN).flatMap(([z, c]) => c.ns.map((n) => `${z} NS ${n}.ns.test.`)),
      okKeys.ds,
      bogusKeys.ds,
    ];
    const window = validWindow();
    files.set(
      'test.',
      await signZone(zdir, await write('test.zone', zone('test.', ['a'], parentRecords)), testKeys, window),
    );
    for (const [z, c] of Object.entries(CHILDREN)) {
      const f = await write(`${z}zone`, zone(z, c.ns, c.records));
      if (z === 'ok.test.') files.set(z, await signZone(zdir, f, okKeys, window));
      else if (z === 'bogus.test.') files.set(z, await signZone(zdir, f, bogusKeys, EXPIRED_WINDOW));
      else files.set(z, f);
    }
    const disagreeC = await write(
      'disagree-c.zone',
      zone('disagree.test.', ['a', 'c'], ['@ CAA 0 issue "letsencrypt.org"', '@ CAA 0 issue "sectigo.com"']),
    );

    closers.push(await startSilent(ADDR.hole));
    closers.push(await startCaseBug(ADDR.caseBug));
    await Promise.all([
      startKnot(workDir, 'a', ADDR.a, files, launch),
      startKnot(
        workDir,
        'b',
        ADDR.b,
        new Map([...files].filter(([z]) => z === 'ok.test.' || z === 'nocaa.test.')),
        launch,
      ),
      startKnot(workDir, 'c', ADDR.c, new Map([['disagree.test.', disagreeC]]), launch),
      startNsd(workDir, ADDR.refused, launch),
    ]);
    const anchor = testKeys.ds.split(/\s+/);
    const port = await startWithPortRetry(
      (p) => startUnbound(workDir, p, anchor.slice(anchor.indexOf('DS') + 1).join(' '), launch),
      () => true,
    );
    return { resolver: { host: LOOPBACK, port }, workDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

type Launch = (...args: ConstructorParameters<typeof Daemon>) => Daemon;

async function waitFor(daemon: Daemon, what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = '';
  while (daemon.running && Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(25);
  }
  await daemon.stop();
  throw new Error(`${daemon.name}: ${what} not ready (${last})\n${daemon.describeLogs()}`);
}

async function startKnot(
  workDir: string,
  id: string,
  address: string,
  zones: ReadonlyMap<string, string>,
  launch: Launch,
): Promise<void> {
  const dir = join(workDir, `knot-${id}`);
  await mkdir(join(dir, 'db'), { recursive: true });
  const conf = join(dir, 'knot.conf');
  await writeFile(
    conf,
    `server:
  listen: ${address}@53
  rundir: "${dir}"
  pidfile: "${dir}/knot.pid"
  user: ${userInfo().username}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
control:
  listen: "${dir}/knot.sock"
database:
  storage: "${dir}/db"
  journal-db-max-size: 64M
  kasp-db-max-size: 16M
  timer-db-max-size: 16M
  catalog-db-max-size: 16M
log:
  - target: stderr
    any: info
template:
  - id: default
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
${[...zones].map(([d, f]) => `  - domain: ${d}\n    file: "${f}"`).join('\n')}
`,
  );
  const daemon = launch(
    `knotd-${id}`,
    '/usr/sbin/knotd',
    ['-c', conf, '-s', join(dir, 'knot.sock')],
    dir,
    join(dir, 'out'),
  );
  const server = { host: address, port: 53 };
  await waitFor(daemon, 'zones', async () => {
    const answers = await Promise.all(
      [...zones.keys()].map((z) =>
        queryDns(server, z, 'SOA', { recursionDesired: false, dnssecOk: false, timeoutMs: 200 }),
      ),
    );
    return answers.every((a) => a.rcode === 'NOERROR');
  });
}

async function startNsd(workDir: string, address: string, launch: Launch): Promise<void> {
  const dir = join(workDir, 'nsd');
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'nsd.conf');
  await writeFile(
    conf,
    `server:
  ip-address: ${address}
  port: 53
  do-ip6: no
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
remote-control:
  control-enable: no
`,
  );
  const daemon = launch(
    'nsd',
    '/usr/sbin/nsd',
    ['-d', '-c', conf],
    dir,
    join(dir, 'out'),
    join(dir, 'nsd.log'),
  );
  await waitFor(
    daemon,
    'REFUSED',
    async () =>
      (await queryDns({ host: address, port: 53 }, 'refused.test.', 'SOA', { timeoutMs: 200 })).rcode ===
      'REFUSED',
  );
}

async function startUnbound(workDir: string, port: number, anchor: string, launch: Launch): Promise<number> {
  const dir = join(workDir, `unbound-${port}`);
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'unbound.conf');
  await writeFile(
    conf,
    `server:
  verbosity: 1
  num-threads: 1
  interface: ${LOOPBACK}@${port}
  outgoing-interface: ${LOOPBACK}
  do-ip6: no
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  logfile: "${dir}/unbound.log"
  use-syslog: no
  do-not-query-localhost: no
  local-zone: "test." nodefault
  module-config: "validator iterator"
  trust-anchor: "test. DS ${anchor}"
  trust-anchor-signaling: no
  root-key-sentinel: no
  ede: yes
  val-log-level: 2
  infra-cache-max-rtt: 1000
  infra-host-ttl: 60
  val-bogus-ttl: 0
  cache-max-negative-ttl: 5
  qname-minimisation: no
  prefetch: no
remote-control:
  control-enable: no
stub-zone:
  name: "."
  stub-addr: ${ADDR.a}@53
stub-zone:
  name: "test."
  stub-addr: ${ADDR.a}@53
`,
  );
  await runTool('unbound-checkconf', [conf], dir);
  const daemon = launch(
    'unbound',
    '/usr/sbin/unbound',
    ['-d', '-c', conf],
    dir,
    join(dir, 'out'),
    join(dir, 'unbound.log'),
  );
  await waitFor(daemon, 'validated ok.test.', async () => {
    const a = await queryDns({ host: LOOPBACK, port }, 'ok.test.', 'SOA', { timeoutMs: 300 });
    return a.rcode === 'NOERROR' && a.packet.flag_ad === true;
  });
  return port;
}

/** UDP+TCP on address:53 that reads and never answers. */
async function startSilent(address: string): Promise<() => Promise<void>> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', () => undefined);
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address, port: 53, exclusive: true }, () => resolve());
  });
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host: address, port: 53 }, () => resolve());
  });
  udp.unref();
  tcp.unref();
  return async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise<void>((r) => udp.close(() => r())),
      new Promise<void>((r) => tcp.close(() => r())),
    ]);
  };
}

type Packet = dnsPacket.Packet;

/** Authoritative for case.test. — but compares QNAMEs case-sensitively (the RFC 4343 bug). */
export function caseBugAnswer(query: Packet): Packet {
  const q = query.questions?.[0];
  const base: Packet = {
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: query.questions ?? [],
    answers: [],
    authorities: [],
  };
  const soa = {
    name: 'case.test',
    type: 'SOA' as const,
    ttl: 300,
    data: {
      mname: 'a.ns.test',
      rname: 'hostmaster.test',
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 5,
    },
  };
  // dns-packet encodes the RCODE only from the low four bits of `flags`.
  const rcode = (code: number): number => dnsPacket.AUTHORITATIVE_ANSWER | code;
  if (q === undefined) return { ...base, flags: rcode(1) };
  const name = q.name.replace(/\.$/, '');
  // The bug: a byte-wise comparison, so "CaSe.test" is not "case.test".
  if (name !== 'case.test' && !name.endsWith('.case.test'))
    return { ...base, flags: rcode(3), authorities: [soa] };
  if (name !== 'case.test') return { ...base, flags: rcode(3), authorities: [soa] };
  const answers: dnsPacket.Answer[] = [];
  if (q.type === 'SOA') answers.push(soa);
  if (q.type === 'NS')
    for (const n of ['a', 'casebug'])
      answers.push({ name: q.name, type: 'NS', ttl: 300, data: `${n}.ns.test` });
  if (q.type === 'CAA')
    answers.push({
      name: q.name,
      type: 'CAA',
      ttl: 300,
      data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
    });
  return { ...base, answers, authorities: answers.length === 0 ? [soa] : [] };
}

async function startCaseBug(address: string): Promise<() => Promise<void>> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    try {
      const out = dnsPacket.encode(caseBugAnswer(dnsPacket.decode(msg)));
      udp.send(out, rinfo.port, rinfo.address);
    } catch {
      // ignore garbage
    }
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ address, port: 53, exclusive: true }, () => resolve());
  });
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        try {
          s.write(dnsPacket.streamEncode(caseBugAnswer(dnsPacket.decode(msg))));
        } catch {
          s.destroy();
        }
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host: address, port: 53 }, () => resolve());
  });
  udp.unref();
  tcp.unref();
  return async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise<void>((r) => udp.close(() => r())),
      new Promise<void>((r) => tcp.close(() => r())),
    ]);
  };
}
