/**
 * @module cli/lab/world
 * Builds the lab's world from src/lab's components, all on loopback and in one directory:
 *
 *   DNS     the embedded authoritative server for `lab.` (jabber.lab, ca.lab)
 *   CA      `ca.lab`, ACME-like: http-01 validation, CAA (RFC 8659/8657) through that DNS, issuance
 *           with precertificates logged in the CT log and SCTs embedded (RFC 6962 §3)
 *   CT log  an RFC 6962 log over HTTP, named with its key in a log list v3 file
 *   victim  HTTPS + XMPP (STARTTLS and direct TLS) behind a front (the hosting provider's network),
 *           certbot state (account + renewals every 60 days, key reused: the inventory), an iodef
 *           receiver (`certvigil iodef serve`) at the URL its CAA will name
 *
 * and the levers the scenario pulls: set the CAA RRset, order as the attacker, intercept.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StubResolver } from '../../dns/index.js';
import {
  LabAcmeCa,
  LabCtLog,
  LabIssuer,
  LabZone,
  startCtLogServer,
  startDnsResponder,
  startFront,
  startHttp01Responder,
  startVictimServices,
  writeCertbotState,
  writeLogList,
} from '../../lab/index.js';
import type { LabCertificate, OrderResult, ServiceName } from '../../lab/index.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../state-files.js';
import { freePort, startDaemon } from './daemon.js';
import type { LabDaemon } from './daemon.js';
import type { Narrator } from './narrate.js';
import { writeWorldFile } from './world-file.js';
import type { LabPaths, LabWorld, OrderOutcome } from './world-types.js';

const DAY = 86_400_000;
const HOST = '127.0.0.1';
const DOMAIN = 'jabber.lab';
const NAMES = [DOMAIN, `www.${DOMAIN}`];
const CA_DOMAIN = 'ca.lab';
const CA_NAME = 'certvigil lab CA';
/** Where the owner receives iodef reports (RFC 6546 over HTTPS), named in its zone. */
const IODEF_HOST = `iodef.${DOMAIN}`;
/** The URL path of the lab's RFC 6962 log. */
const CT_PREFIX = '/lab/';
/** The ports the interceptor sits in front of (as in 2023: XMPP, not HTTPS). */
export const INTERCEPTED: readonly ServiceName[] = ['xmppStarttls', 'xmppTls'];
/** The victim renews every 60 days (its weekly cron job renews at 30 days left); the last was 5 days ago. */
const RENEWALS_DAYS_AGO = [125, 65, 5];

function receiverFiles(paths: LabPaths): { cert: string; key: string } {
  return { cert: join(paths.workDir, 'iodef-receiver.pem'), key: join(paths.workDir, 'iodef-receiver.key') };
}

/** The owner's `certvigil iodef serve` (RFC 6546 over HTTPS) on host:port, storing in the iodef state. */
export function startReceiver(paths: LabPaths, host: string, port: number): Promise<LabDaemon> {
  const files = receiverFiles(paths);
  return startDaemon(
    [
      'iodef',
      'serve',
      '--listen',
      `${host}:${port}`,
      '--tls-cert',
      files.cert,
      '--tls-key',
      files.key,
      '--state-dir',
      paths.iodefState,
    ],
    host,
    port,
  );
}

/**
 * The receiver on a port that was free a moment ago: another process may take it between the check
 * and the child's bind, so a failed start is retried on a new port (three attempts).
 */
async function startReceiverOnFreePort(
  paths: LabPaths,
  host: string,
): Promise<{ port: number; daemon: LabDaemon }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(host);
    try {
      return { port, daemon: await startReceiver(paths, host, port) };
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

export function labPaths(root: string): LabPaths {
  return {
    root,
    zoneFile: join(root, 'dns', 'lab.zone'),
    boundZoneFile: join(root, 'dns', 'lab-rfc8657.zone'),
    caRootPem: join(root, 'ca', 'root.pem'),
    caState: join(root, 'ca', 'state'),
    logList: join(root, 'ct', 'loglist.json'),
    ctDir: join(root, 'ct', 'log'),
    certbot: join(root, 'victim', 'certbot'),
    victimState: join(root, 'victim', 'state'),
    iodefState: join(root, 'victim', 'iodef'),
    watchlist: join(root, 'victim', 'watchlist.txt'),
    monitorConfig: join(root, 'victim', 'certvigil.yaml'),
    attackerDir: join(root, 'attacker'),
    workDir: join(root, 'work'),
  };
}

async function privateFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: PRIVATE_FILE_MODE });
}

function keyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function outcomeOf(result: OrderResult, key: KeyObject): OrderOutcome {
  if (result.status === 'issued') {
    const c: LabCertificate = result.certificate;
    return {
      issued: true,
      stage: null,
      reason: 'issued',
      validationSucceeded: true,
      spkiSha256: c.spkiSha256Hex,
      serialHex: c.serialHex,
      chainPem: c.fullchainPem,
      keyPem: keyPem(key),
    };
  }
  return {
    issued: false,
    stage: result.stage,
    reason: result.reason,
    validationSucceeded: result.validationSucceeded,
    spkiSha256: null,
    serialHex: null,
    chainPem: null,
    keyPem: null,
  };
}

/** Builds and starts the world under `root` (fresh). Throws with a plain reason when a piece cannot start. */
export async function buildWorld(root: string, say: Narrator): Promise<LabWorld> {
  const paths = labPaths(root);
  for (const dir of [
    join(root, 'dns'),
    join(root, 'ca'),
    join(root, 'ct'),
    join(root, 'victim'),
    paths.certbot,
    paths.attackerDir,
    paths.workDir,
  ])
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };
  try {
    // DNS: the victim's zone, served by the embedded responder (no Knot/NSD needed).
    const zone = new LabZone({ apexes: ['lab'] });
    for (const name of [...NAMES, CA_DOMAIN, IODEF_HOST]) zone.set(name, 'A', [HOST]);
    const writeZone = (): Promise<void> => writeFile(paths.zoneFile, zone.toZoneText('lab'));
    await writeZone();
    const dns = await startDnsResponder({ zone, host: HOST });
    closers.push(() => dns.close());
    say.say(`DNS: zone lab. (jabber.lab, ca.lab) served on ${dns.endpoint}`);

    // CT log and CA.
    const issuer = await LabIssuer.create({ commonName: CA_NAME, organization: 'certvigil lab' });
    await writeFile(paths.caRootPem, issuer.certificatePem);
    const log = new LabCtLog({ name: 'certvigil lab log' });
    log.publish();
    const logServer = await startCtLogServer(log, { rfc6962Prefix: CT_PREFIX });
    closers.push(() => logServer.close());
    await writeLogList(paths.logList, [logServer], { operatorName: 'certvigil lab' });
    say.say(`CT log: RFC 6962 at ${logServer.rfc6962Url} (log list ${paths.logList})`);
    const http01 = await startHttp01Responder({ host: HOST });
    closers.push(() => http01.close());
    const resolver = new StubResolver({ servers: [{ host: HOST, port: dns.port }] });
    const ca = new LabAcmeCa({
      issuerDomain: CA_DOMAIN,
      directoryUrl: `https://acme.${CA_DOMAIN}/directory`,
      engine: issuer,
      log,
      resolver,
      http01: { port: http01.port },
    });
    const victim = ca.newAccount('victim');
    const attacker = ca.newAccount('attacker');
    say.say(
      `CA: ${CA_DOMAIN} (ACME-like, http-01 on port ${http01.port}, CAA through the lab DNS, logs to the CT log)`,
    );

    // The victim's history: renewals by its ACME client, one key reused (certbot --reuse-key).
    const victimKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const victimKeyPem = keyPem(victimKey.privateKey);
    const certificates: { der: Buffer; chainPem: string; keyPem: string }[] = [];
    let current: LabCertificate | null = null;
    for (const daysAgo of RENEWALS_DAYS_AGO) {
      const r = await ca.order({
        accountUri: victim.uri,
        names: NAMES,
        method: 'http-01',
        subjectKey: victimKey.publicKey,
        solver: http01,
        notBefore: new Date(Date.now() - daysAgo * DAY),
      });
      if (r.status !== 'issued') throw new Error(`the victim's renewal was refused: ${r.reason}`);
      current = r.certificate;
      certificates.push({ der: r.certificate.der, chainPem: r.certificate.chainPem, keyPem: victimKeyPem });
    }
    if (current === null) throw new Error('no victim certificate');
    log.publish();
    await writeCertbotState(paths.certbot, {
      directoryUrl: ca.directoryUrl,
      accountUri: victim.uri,
      accountKey: victim.key,
      name: DOMAIN,
      certificates,
      authenticator: 'webroot',
    });
    say.say(
      `victim: ${RENEWALS_DAYS_AGO.length} renewals for ${NAMES.join(', ')} (every 60 days, last 5 days ago), certbot state in ${paths.certbot}`,
    );

    // The victim's services and the front the outside reaches them through.
    const services = await startVictimServices({
      host: HOST,
      cert: { chainPem: current.fullchainPem, keyPem: victimKeyPem },
      xmppDomain: DOMAIN,
    });
    closers.push(() => services.close());
    const front = await startFront({ host: HOST, backends: services.ports });
    closers.push(() => front.close());
    say.say(
      `services: HTTPS on ${front.ports.https}, XMPP STARTTLS on ${front.ports.xmppStarttls}, XMPP direct TLS on ${front.ports.xmppTls} (through the front)`,
    );

    // The owner's iodef receiver, HTTPS (RFC 6546) with a certificate of the lab CA.
    const receiverCert = issuer.issue({ dnsNames: [IODEF_HOST] });
    if (receiverCert.privateKeyPem === undefined)
      throw new Error('the lab CA made no key for the iodef receiver');
    await privateFile(receiverFiles(paths).cert, receiverCert.fullChainPem);
    await privateFile(receiverFiles(paths).key, receiverCert.privateKeyPem);
    const { port: iodefPort, daemon: receiver } = await startReceiverOnFreePort(paths, HOST);
    closers.push(() => receiver.stop());
    say.say(`iodef receiver: ${receiver.display}`);

    await writeFile(paths.watchlist, `.${DOMAIN}\n`);
    await writeFile(
      paths.monitorConfig,
      '# certvigil lab: alerts as JSON lines on stdout\nalerts:\n  stdout: true\n',
    );

    const attackerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let intercepted = false;
    return {
      paths,
      domain: DOMAIN,
      names: NAMES,
      host: HOST,
      ports: front.ports,
      dnsEndpoint: dns.endpoint,
      caIssuerDomain: CA_DOMAIN,
      caName: CA_NAME,
      victimAccountUri: victim.uri,
      attackerAccountUri: attacker.uri,
      victimSpkiSha256: current.spkiSha256Hex,
      iodefUrl: `https://${IODEF_HOST}:${iodefPort}/`,
      async setCaa(records) {
        zone.set(
          DOMAIN,
          'CAA',
          records.map((r) => parseCaaPresentation(r)),
        );
        await writeZone();
      },
      async snapshotZone(path) {
        await writeFile(path, zone.toZoneText('lab'));
      },
      async orderAsAttacker() {
        // The attacker sits in the path and answers the http-01 request itself (same responder here).
        const result = await ca.order({
          accountUri: attacker.uri,
          names: NAMES,
          method: 'http-01',
          subjectKey: attackerKey.publicKey,
          solver: http01,
        });
        return outcomeOf(result, attackerKey.privateKey);
      },
      async intercept(chainPem, attackerKeyPem) {
        await privateFile(join(paths.attackerDir, 'fullchain.pem'), chainPem);
        await privateFile(join(paths.attackerDir, 'privkey.pem'), attackerKeyPem);
        front.intercept({ services: [...INTERCEPTED], cert: { chainPem, keyPem: attackerKeyPem } });
        intercepted = true;
      },
      publishLog() {
        log.publish();
      },
      async save() {
        await log.save(paths.ctDir);
        await issuer.save(join(root, 'ca', 'issuer'));
        await writeWorldFile(root, {
          version: 1,
          domain: DOMAIN,
          host: HOST,
          dnsPort: dns.port,
          ctLogPort: logServer.port,
          ctLogPrefix: CT_PREFIX,
          iodefPort,
          frontPorts: front.ports,
          intercepted,
        });
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** `0 issue "ca.lab; accounturi=…"` → the zone's CAA rdata (RFC 8659 §4.1.1 presentation). */
export function parseCaaPresentation(text: string): { flags: number; tag: string; value: string } {
  const m = /^\s*(\d{1,3})\s+([A-Za-z0-9]+)\s+"((?:[^"\\]|\\.)*)"\s*$/.exec(text);
  if (m === null) throw new Error(`not a CAA record in presentation format: ${JSON.stringify(text)}`);
  return { flags: Number(m[1]), tag: m[2] as string, value: (m[3] as string).replace(/\\(.)/g, '$1') };
}

/** `DIR/commands.txt` of a kept world: the commands behind each verdict, to run against `lab serve DIR`. */
export async function writeCommandsFile(
  world: LabWorld,
  results: readonly { detector: string; commands: readonly string[] }[],
): Promise<void> {
  const lines = [
    '# certvigil lab: the commands behind each detector (run them while `certvigil lab serve` runs)',
  ];
  for (const r of results) {
    if (r.commands.length === 0) continue;
    lines.push('', `# ${r.detector}`, ...r.commands);
  }
  await writeFile(join(world.paths.root, 'commands.txt'), `${lines.join('\n')}\n`);
}
