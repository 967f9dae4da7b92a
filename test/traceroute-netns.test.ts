/**
 * The real `traceroute -T` through a real routed path: network namespaces client ── r1 ── r2 ──
 * server, with r1 sending selected destination ports through an extra box (mitm), the way the
 * jabber.ru interception (2023) showed up only on the XMPP ports. Checks that `tcpTraceroute`/
 * `traceMany`/`lastHops` see the extra hop on the detoured port only, in IPv4 and IPv6, and that
 * the topology leaves nothing behind.
 *
 * Needs root (namespaces, and -T needs CAP_NET_RAW) and Debian's `iproute2` and `traceroute`;
 * skipped with the reason where namespaces cannot be created (not root, no `ip`).
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceResult } from '../src/probe/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- tests the traceroute wrapper alone in a netns; callers reach it only inside checkMitm
import { lastHops, tcpTraceroute, traceMany } from '../src/probe/traceroute.js';
import type { Topology } from './harness/netns.js';
import { createTopology, namespacesSupported } from './harness/netns.js';

const support = await namespacesSupported();
const skip = support.ok ? null : support.reason;

/** Listens on 443 and 5222 on every address of the server namespace (dual-stack `::`). */
const SERVER_SCRIPT = `
const net = require('node:net');
let pending = 2;
for (const port of [443, 5222]) {
  net.createServer((socket) => socket.destroy()).listen({ host: '::', port }, () => {
    if (--pending === 0) console.log('ready');
  });
}`;

describe.skipIf(skip !== null)(
  `TCP traceroute per port through network namespaces${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let topo: Topology;
    let server: ChildProcess;

    beforeAll(async () => {
      topo = await createTopology();
      server = topo.spawnIn(topo.serverNs, [process.execPath, '-e', SERVER_SCRIPT], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 10_000);
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          if (output.includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        };
        server.stdout?.on('data', onData);
        server.stderr?.on('data', onData);
        server.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`server exited with ${code}: ${output}`));
        });
      });
    });

    afterAll(async () => {
      await topo?.destroy();
    });

    const families = [
      {
        family: 4 as const,
        server: (t: Topology) => t.serverV4,
        pick: (a: { v4: string; v6: string }) => a.v4,
      },
      {
        family: 6 as const,
        server: (t: Topology) => t.serverV6,
        pick: (a: { v4: string; v6: string }) => a.v6,
      },
    ];

    const traceBoth = async (family: 4 | 6, address: string): Promise<[TraceResult, TraceResult]> => {
      const [https, xmpp] = await traceMany(address, [443, 5222], {
        family,
        netns: topo.clientNs,
        probesPerHop: 2,
        waitSeconds: 1,
        maxTtl: 8,
        timeoutMs: 15_000,
      });
      if (https === undefined || xmpp === undefined) throw new Error('traceMany returned too few results');
      return [https, xmpp];
    };

    it.each(families)(
      'IPv$family: the detour shows on the detoured port only, and goes away again',
      async (f) => {
        const address = f.server(topo);
        const r1 = f.pick(topo.hops.r1);
        const r2 = f.pick(topo.hops.r2);
        const mitm = f.pick(topo.hops.mitm);
        const r2FromMitm = f.pick(topo.hops.r2FromMitm);
        const direct = { hops: [r1, r2], hopCount: 3 };

        await topo.setDetour([]);
        let [https, xmpp] = await traceBoth(f.family, address);
        for (const trace of [https, xmpp]) {
          expect(trace).toMatchObject({ address, family: f.family, reached: true, hopCount: 3 });
          expect(trace.method).toContain(`ip netns exec ${topo.clientNs} traceroute -T -n -${f.family}`);
          expect(trace.hops.map((h) => h.addresses)).toEqual([[r1], [r2], [address]]);
          expect(trace.hops.every((h) => h.rttMs.length === 2)).toBe(true);
          expect(lastHops(trace, 2)).toEqual(direct);
        }
        expect([https.port, xmpp.port]).toEqual([443, 5222]);

        await topo.setDetour([5222]);
        [https, xmpp] = await traceBoth(f.family, address);
        expect(lastHops(https, 2)).toEqual(direct);
        expect(xmpp.hops.map((h) => h.addresses)).toEqual([[r1], [mitm], [r2FromMitm], [address]]);
        expect(lastHops(xmpp, 2)).toEqual({ hops: [mitm, r2FromMitm], hopCount: 4 });
        expect(lastHops(xmpp, 5)).toEqual({ hops: [r1, mitm, r2FromMitm], hopCount: 4 });

        await topo.setDetour([]);
        [https, xmpp] = await traceBoth(f.family, address);
        expect(lastHops(https, 2)).toEqual(direct);
        expect(lastHops(xmpp, 2)).toEqual(direct);
      },
    );

    it('a destination that does not answer is not reached', async () => {
      await topo.setDetour([443]);
      // No such host on the server's link: r2's ARP fails, the probes past it get no answer in time.
      const trace = await tcpTraceroute('10.77.3.9', {
        port: 443,
        netns: topo.clientNs,
        probesPerHop: 1,
        waitSeconds: 0.5,
        maxTtl: 5,
        timeoutMs: 15_000,
      });
      expect(trace.reached).toBe(false);
      expect(trace.hopCount).toBeNull();
      expect(trace.hops.slice(0, 3).map((h) => h.addresses)).toEqual([
        [topo.hops.r1.v4],
        [topo.hops.mitm.v4],
        [topo.hops.r2FromMitm.v4],
      ]);
      expect(lastHops(trace, 2)).toEqual({
        hops: [topo.hops.mitm.v4, topo.hops.r2FromMitm.v4],
        hopCount: null,
      });
      await topo.setDetour([]);
    });

    it('destroy() removes every namespace and kills what ran in them, and is idempotent', async () => {
      const names = [topo.clientNs, topo.r1Ns, topo.r2Ns, topo.mitmNs, topo.serverNs];
      const listed = (): string => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      for (const name of names) expect(listed()).toContain(name);
      const exited = new Promise<void>((resolve) => {
        if (server.exitCode !== null || server.signalCode !== null) resolve();
        else server.once('close', () => resolve());
      });
      await topo.destroy();
      await exited;
      await topo.destroy();
      const after = listed();
      for (const name of names) expect(after).not.toContain(name);
      // No veth end was ever in the host's namespace.
      expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(
        /\b(r1c|r1r2|r2s|r1m|m2)@/,
      );
    });
  },
);
