/**
 * @module lab/netns
 * A small routed network made of Linux network namespaces, for `certvigil lab`'s traceroute part
 * and the tests of path-dependent probes (the per-port TCP traceroute of `src/probe/traceroute.ts`):
 *
 * ```
 * client ── r1 ── r2 ── server
 *            └── mitm ──┘     (detour for selected destination ports, switchable)
 * ```
 *
 * Why: in the jabber.ru interception (2023) an extra box sat in the path of the XMPP ports only.
 * r1 reproduces that with policy routing by destination port (`ip rule add dport P table 100`,
 * IPv4 and IPv6), so a test can switch the detour on and off and see the path change per port.
 *
 * Every link is a veth pair created directly inside the namespaces (`ip -n NS link add … peer …
 * netns NS2`), so nothing is ever attached to the host's network and no namespace has a route
 * outside 10.77.0.0/16 and fd00:77::/32: packets never leave the topology. Namespace names carry a
 * random suffix, so parallel runs and leftovers of a crashed run do not collide; interface names
 * are per namespace and short (≤ 15 characters).
 *
 * Cleanup: `destroy()` kills the processes left in the namespaces and deletes them (deleting a
 * namespace deletes its veth ends). The same runs from the process exit/signal handlers, and a
 * detached watchdog shell deletes the namespaces if the Node process dies without either (SIGKILL),
 * as netns-cleanup.ts says.
 *
 * Needs: root (or CAP_SYS_ADMIN + CAP_NET_ADMIN), `ip` from Debian's `iproute2`, and a kernel with
 * network namespaces, veth and policy routing by port (Linux ≥ 4.17): `namespacesSupported()`
 * (netns-support.ts) says in plain words what is missing. Setup failures throw LAB_START_FAILED
 * after deleting whatever was created.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { destroySync, installExitHandlers, liveTopologies, startWatchdog } from './netns-cleanup.js';
import type { ExecResult } from './netns-support.js';
import { must, run } from './netns-support.js';

/** Addresses of a router, as seen from the client (the source of its ICMP time-exceeded). */
export interface HopAddresses {
  v4: string;
  v6: string;
}

export interface Topology {
  clientNs: string;
  serverNs: string;
  mitmNs: string;
  r1Ns: string;
  r2Ns: string;
  clientV4: string;
  clientV6: string;
  serverV4: string;
  serverV6: string;
  /**
   * The address each box answers a TTL expiry from: the interface the probe came in on, so r2
   * answers from `r2` on the direct path and from `r2FromMitm` behind the detour.
   */
  hops: { r1: HopAddresses; r2: HopAddresses; r2FromMitm: HopAddresses; mitm: HopAddresses };
  /** Replaces the set of destination ports that r1 sends through mitm (IPv4 and IPv6). */
  setDetour(ports: number[]): Promise<void>;
  /** Runs `argv` inside namespace `ns` to completion (never throws on a non-zero exit). */
  exec(ns: string, argv: string[], timeoutMs?: number): Promise<ExecResult>;
  /** Starts `argv` inside namespace `ns`; `destroy()` kills it if it still runs. */
  spawnIn(ns: string, argv: string[], opts?: SpawnOptions): ChildProcess;
  /** Kills what runs in the namespaces and deletes them with their links. Idempotent. */
  destroy(): Promise<void>;
}

const DETOUR_TABLE = '100';
const DETOUR_PRIORITY_BASE = 1000;

// ---------------------------------------------------------------------------------------------
// The topology

/**
 * Links (IPv4 /24 and IPv6 /64 each), interfaces and addresses:
 *   1 client c0 10.77.1.2 ── r1 r1c 10.77.1.1
 *   2 r1 r1r2 10.77.2.1   ── r2 r2r1 10.77.2.2
 *   3 r2 r2s 10.77.3.1    ── server s0 10.77.3.2
 *   4 r1 r1m 10.77.4.1    ── mitm m1 10.77.4.2
 *   5 mitm m2 10.77.5.1   ── r2 r2m 10.77.5.2
 * with fd00:77:N::X for 10.77.N.X. Routers answer TTL expiries from the interface the probe came
 * in on: r1 = .1.1, mitm = .4.2, r2 = .2.2 on the direct path and .5.2 behind the detour.
 */
export async function createTopology(): Promise<Topology> {
  const suffix = randomBytes(3).toString('hex');
  const ns = {
    client: `cv-${suffix}-client`,
    r1: `cv-${suffix}-r1`,
    r2: `cv-${suffix}-r2`,
    mitm: `cv-${suffix}-mitm`,
    server: `cv-${suffix}-server`,
  };
  const namespaces = Object.values(ns);
  const children = new Set<ChildProcess>();
  installExitHandlers();
  liveTopologies.set(suffix, { namespaces, children });
  const watchdog = startWatchdog(namespaces);
  let destroyed = false;

  const v4 = (link: number, host: number): string => `10.77.${link}.${host}`;
  const v6 = (link: number, host: number): string => `fd00:77:${link}::${host}`;
  const ip = (nsName: string, ...args: string[]): Promise<string> => must(['ip', '-n', nsName, ...args]);
  // /proc/sys/net belongs to the namespace of the process that opens it, hence a writer inside it
  // (sh and printf are always there; the `sysctl` binary of procps may not be). Keys and values
  // are positional parameters, never part of the script.
  const sysctls = (nsName: string, values: Record<string, string>): Promise<string> =>
    must([
      'ip',
      'netns',
      'exec',
      nsName,
      '/bin/sh',
      '-c',
      'while [ $# -gt 1 ]; do printf "%s\\n" "$2" > "/proc/sys/$1" || exit 1; shift 2; done',
      'sysctls',
      ...Object.entries(values).flat(),
    ]);

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) resolve();
            else child.once('close', () => resolve());
          }),
      ),
    );
    destroySync(namespaces, new Set());
    liveTopologies.delete(suffix);
    const stdin = watchdog.stdin;
    if (stdin !== null && !stdin.destroyed) stdin.end('release\n');
  };

  try {
    for (const name of namespaces) {
      await must(['ip', 'netns', 'add', name]);
      await ip(name, 'link', 'set', 'lo', 'up');
      // No reverse-path filter (the detour makes paths asymmetric), no ICMP rate limit (traceroute
      // sends a burst of probes and every expiry must be answered), forwarding in the routers, and
      // ICMP errors from the interface the probe came in on (what IPv6 does anyway), so a box
      // answers from the same address in both families.
      const router = name === ns.r1 || name === ns.r2 || name === ns.mitm;
      await sysctls(name, {
        'net/ipv4/conf/all/rp_filter': '0',
        'net/ipv4/conf/default/rp_filter': '0',
        'net/ipv4/icmp_ratelimit': '0',
        'net/ipv4/icmp_errors_use_inbound_ifaddr': '1',
        'net/ipv6/icmp/ratelimit': '0',
        'net/ipv4/ip_forward': router ? '1' : '0',
        'net/ipv6/conf/all/forwarding': router ? '1' : '0',
        'net/ipv6/conf/default/accept_ra': '0',
      });
    }

    const links: [number, string, string, string, string][] = [
      [1, ns.r1, 'r1c', ns.client, 'c0'],
      [2, ns.r1, 'r1r2', ns.r2, 'r2r1'],
      [3, ns.r2, 'r2s', ns.server, 's0'],
      [4, ns.r1, 'r1m', ns.mitm, 'm1'],
      [5, ns.mitm, 'm2', ns.r2, 'r2m'],
    ];
    // Fixed MACs and permanent neighbour entries: no ARP/ND at all, so the first probes of a trace
    // are not lost while a router resolves its next hop (IPv6 showed `* * *` hops without this).
    const mac = (link: number, host: number): string => `02:77:00:00:0${link}:0${host}`;
    for (const [link, nsA, ifA, nsB, ifB] of links) {
      await ip(
        nsA,
        'link',
        'add',
        ifA,
        'address',
        mac(link, 1),
        'type',
        'veth',
        'peer',
        'name',
        ifB,
        'address',
        mac(link, 2),
        'netns',
        nsB,
      );
      for (const [nsName, ifName, host] of [
        [nsA, ifA, 1],
        [nsB, ifB, 2],
      ] as const) {
        const peer = 3 - host;
        await ip(nsName, 'addr', 'add', `${v4(link, host)}/24`, 'dev', ifName);
        await ip(nsName, '-6', 'addr', 'add', `${v6(link, host)}/64`, 'dev', ifName, 'nodad');
        await ip(nsName, 'link', 'set', ifName, 'up');
        for (const address of [v4(link, peer), v6(link, peer)]) {
          await ip(
            nsName,
            'neigh',
            'replace',
            address,
            'lladdr',
            mac(link, peer),
            'dev',
            ifName,
            'nud',
            'permanent',
          );
        }
      }
    }

    // Routes: each entry is [namespace, destination link, via link, via host].
    const routes: [string, number, number, number][] = [
      // client and server: everything in the topology through their one router.
      [ns.client, 0, 1, 1],
      [ns.server, 0, 3, 1],
      // r1: server side through r2 (main table).
      [ns.r1, 3, 2, 2],
      [ns.r1, 5, 2, 2],
      // r2: client side through r1.
      [ns.r2, 1, 2, 1],
      [ns.r2, 4, 2, 1],
      // mitm: towards the server through r2, back through r1.
      [ns.mitm, 3, 5, 2],
      [ns.mitm, 2, 5, 2],
      [ns.mitm, 1, 4, 1],
    ];
    for (const [nsName, dest, viaLink, viaHost] of routes) {
      const dest4 = dest === 0 ? '10.77.0.0/16' : `10.77.${dest}.0/24`;
      const dest6 = dest === 0 ? 'fd00:77::/32' : `fd00:77:${dest}::/64`;
      await ip(nsName, 'route', 'add', dest4, 'via', v4(viaLink, viaHost));
      await ip(nsName, '-6', 'route', 'add', dest6, 'via', v6(viaLink, viaHost));
    }
    // r1's detour table: the server's link through mitm.
    await ip(ns.r1, 'route', 'add', '10.77.3.0/24', 'via', v4(4, 2), 'table', DETOUR_TABLE);
    await ip(ns.r1, '-6', 'route', 'add', 'fd00:77:3::/64', 'via', v6(4, 2), 'table', DETOUR_TABLE);
  } catch (err) {
    await destroy();
    throw err;
  }

  let detoured: number[] = [];
  const ruleSpec = (i: number, port: number): string[] => [
    'priority',
    String(DETOUR_PRIORITY_BASE + i),
    'dport',
    String(port),
    'table',
    DETOUR_TABLE,
  ];
  const setDetour = async (ports: number[]): Promise<void> => {
    for (const family of ['-4', '-6']) {
      for (const [i, port] of detoured.entries()) {
        await ip(ns.r1, family, 'rule', 'del', ...ruleSpec(i, port));
      }
    }
    detoured = [];
    const wanted = [...new Set(ports)];
    for (const family of ['-4', '-6']) {
      for (const [i, port] of wanted.entries()) {
        await ip(ns.r1, family, 'rule', 'add', ...ruleSpec(i, port));
      }
    }
    detoured = wanted;
    // Cached routes must not outlive the change.
    await ip(ns.r1, 'route', 'flush', 'cache');
    await ip(ns.r1, '-6', 'route', 'flush', 'cache');
  };

  const spawnIn = (nsName: string, argv: string[], opts: SpawnOptions = {}): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', nsName, ...argv], opts);
    children.add(child);
    child.once('close', () => children.delete(child));
    child.once('error', () => children.delete(child));
    return child;
  };

  return {
    clientNs: ns.client,
    serverNs: ns.server,
    mitmNs: ns.mitm,
    r1Ns: ns.r1,
    r2Ns: ns.r2,
    clientV4: v4(1, 2),
    clientV6: v6(1, 2),
    serverV4: v4(3, 2),
    serverV6: v6(3, 2),
    hops: {
      r1: { v4: v4(1, 1), v6: v6(1, 1) },
      r2: { v4: v4(2, 2), v6: v6(2, 2) },
      r2FromMitm: { v4: v4(5, 2), v6: v6(5, 2) },
      mitm: { v4: v4(4, 2), v6: v6(4, 2) },
    },
    setDetour,
    exec: (nsName, argv, timeoutMs) => run(['ip', 'netns', 'exec', nsName, ...argv], timeoutMs),
    spawnIn,
    destroy,
  };
}
