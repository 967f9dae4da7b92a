/**
 * @module cli/lab/serve-world
 * `certvigil lab serve DIR`: the world a `certvigil lab --keep DIR` left, live again on the same
 * loopback ports — the zone from its file, the CT log from its saved state, the victim's services
 * with its current certificate, the front with the interceptor as it was, the iodef receiver — so
 * the commands the lab printed can be run again, changed and explored.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LabCtLog,
  LabZone,
  startCtLogServer,
  startDnsResponder,
  startFront,
  startVictimServices,
} from '../../lab/index.js';
import type { Narrator } from './narrate.js';
import { readWorldFile } from './world-file.js';
import { INTERCEPTED, labPaths, startReceiver } from './world.js';

export interface ServedWorld {
  close(): Promise<void>;
}

export async function serveWorld(root: string, say: Narrator): Promise<ServedWorld> {
  // Read and checked before anything is printed or started: a bad DIR is one line, nothing else.
  const file = await readWorldFile(root);
  const paths = labPaths(root);
  say.step(`The lab's world from ${root}`);
  const host = file.host;
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };
  try {
    const zone = LabZone.fromZoneText(await readFile(paths.zoneFile, 'utf8'));
    const dns = await startDnsResponder({ zone, host, port: file.dnsPort });
    closers.push(() => dns.close());
    say.say(`DNS: ${paths.zoneFile} served on ${dns.endpoint}`);

    const log = await LabCtLog.load(paths.ctDir);
    const logServer = await startCtLogServer(log, {
      rfc6962Prefix: file.ctLogPrefix,
      port: file.ctLogPort,
      host,
    });
    closers.push(() => logServer.close());
    say.say(`CT log: ${logServer.rfc6962Url} (${log.size} entries)`);

    const live = join(paths.certbot, 'live', file.domain);
    const services = await startVictimServices({
      host,
      cert: {
        chainPem: await readFile(join(live, 'fullchain.pem'), 'utf8'),
        keyPem: await readFile(join(live, 'privkey.pem'), 'utf8'),
      },
      xmppDomain: file.domain,
    });
    closers.push(() => services.close());
    const front = await startFront({ host, backends: services.ports, ports: file.frontPorts });
    closers.push(() => front.close());
    if (file.intercepted) {
      front.intercept({
        services: [...INTERCEPTED],
        cert: {
          chainPem: await readFile(join(paths.attackerDir, 'fullchain.pem'), 'utf8'),
          keyPem: await readFile(join(paths.attackerDir, 'privkey.pem'), 'utf8'),
        },
      });
    }
    const p = front.ports;
    say.say(
      `services: HTTPS on ${p.https}, XMPP STARTTLS on ${p.xmppStarttls}, XMPP direct TLS on ${p.xmppTls}` +
        (file.intercepted ? ' (the interceptor in front of the XMPP ports)' : ''),
    );

    const receiver = await startReceiver(paths, host, file.iodefPort);
    closers.push(() => receiver.stop());
    say.say(`iodef receiver: ${receiver.display}`);
    return { close };
  } catch (err) {
    await close();
    throw err;
  }
}
