/**
 * @module cli/lab/hops
 * The last-hop detector of the lab: the one part that needs a real routed path. As root (with
 * `ip` from iproute2 and `traceroute`), network namespaces client ── r1 ── r2 ── server are built
 * (src/lab/netns.ts), the victim's ports listen in the server namespace, `mitm learn` records the
 * TCP-traceroute last hops per port from the client namespace, then r1 sends the XMPP ports only
 * through an extra box — as the interceptor's equipment sat in the path in 2023 — and `check mitm`
 * must see the path change on those ports only. Elsewhere it is reported as not expected, with why.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createTopology, namespacesSupported, startNamespaceTlsListeners } from '../../lab/index.js';
import { decidePerPortChange, lastHopNotRun } from './detectors.js';
import type { DetectorResult } from './detectors.js';
import type { Narrator } from './narrate.js';
import type { Runner } from './run-certvigil.js';
import type { LabWorld } from './world-types.js';

/** The 2023 ports inside the namespaces, where the lab owns the whole network stack. */
const PORTS = { https: 443, xmppStarttls: 5222, xmppTls: 5223 } as const;
const INTERCEPTED = [PORTS.xmppStarttls, PORTS.xmppTls];

export async function runLastHops(world: LabWorld, say: Narrator, run: Runner): Promise<DetectorResult> {
  say.step('Last hops: TCP traceroute per port through network namespaces');
  if (process.getuid?.() !== 0) {
    const reason = 'not running as root (network namespaces need CAP_NET_ADMIN, TCP traceroute CAP_NET_RAW)';
    say.say(`skipped: ${reason}`);
    return lastHopNotRun(reason);
  }
  const support = await namespacesSupported({ traceroute: true });
  if (!support.ok) {
    say.say(`skipped: ${support.reason}`);
    return lastHopNotRun(support.reason);
  }
  const topo = await createTopology();
  try {
    say.say(
      `namespaces client ── r1 ── r2 ── server (${topo.serverV4}); the victim listens on 443, 5222, 5223 there`,
    );
    const live = join(world.paths.certbot, 'live', world.domain);
    await startNamespaceTlsListeners(topo, {
      ports: Object.values(PORTS),
      cert: {
        chainPem: await readFile(join(live, 'fullchain.pem'), 'utf8'),
        keyPem: await readFile(join(live, 'privkey.pem'), 'utf8'),
      },
    });
    const wrapper = ['ip', 'netns', 'exec', topo.clientNs];
    const state = [
      '--state-dir',
      join(world.paths.workDir, 'netns-state'),
      '-t',
      '20',
      '--hops',
      '3',
      '--no-jarm',
      '-4',
    ];
    const ports = ['--ports', Object.values(PORTS).join(',')];
    const learn = await run(['mitm', 'learn', topo.serverV4, ...ports, '--rounds', '1', '--json', ...state], {
      wrapper,
      timeoutMs: 60_000,
    });
    say.command(learn, learn.code === 0 ? 'last hops learned per port' : 'mitm learn failed');
    // Without a baseline there is nothing to compare: the verdict says so (learn failed).
    if (learn.code !== 0)
      return decidePerPortChange('last-hop-change', 'path-changed', INTERCEPTED, learn, learn);
    await topo.setDetour(INTERCEPTED);
    say.say(`r1 now routes ports ${INTERCEPTED.join(' and ')} through the interceptor's box`);
    const check = await run(['check', 'mitm', topo.serverV4, ...ports, '--json', ...state], {
      wrapper,
      timeoutMs: 60_000,
    });
    say.command(check, 'last hops per port against the baseline');
    return decidePerPortChange('last-hop-change', 'path-changed', INTERCEPTED, check, learn);
  } finally {
    await topo.destroy();
  }
}
