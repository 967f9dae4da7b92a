/**
 * The detector the lab exists to show, as a user runs it: the built `certvigil check endpoint --pin`
 * (test/cli-run.ts) against the front. Pass-through: OK on every port. Intercepting the XMPP ports:
 * CRITICAL pin-mismatch there (the attacker's key), still OK on 443. Needs `npm run build`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli-run.js';
import type { Front } from './front.js';
import { startFront } from './front.js';
import type { LabCerts } from './services.fixture.js';
import { labCerts } from './services.fixture.js';
import type { ServiceName, VictimServices } from './victim.js';
import { SERVICE_NAMES, startVictimServices } from './victim.js';

describe('certvigil check endpoint --pin against the front', () => {
  let certs: LabCerts;
  let victim: VictimServices;
  let front: Front;
  let work: string;
  let pin: string;

  beforeAll(async () => {
    certs = await labCerts();
    victim = await startVictimServices({ cert: certs.victim });
    front = await startFront({ backends: victim.ports });
    work = await mkdtemp(join(tmpdir(), 'certvigil-lab-front-'));
    // The chain's last PEM block is the test root: the trust anchor for path validation.
    const root = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?$/.exec(
      certs.victim.chainPem ?? '',
    )?.[0];
    await writeFile(join(work, 'root.pem'), root ?? '');
    const spki = new X509Certificate(certs.victim.der).publicKey.export({ type: 'spki', format: 'der' });
    pin = createHash('sha256').update(spki).digest('hex');
  });
  afterAll(async () => {
    await front.close();
    await victim.close();
    await rm(work, { recursive: true, force: true });
  });

  const check = (service: ServiceName): ReturnType<typeof runCli> =>
    runCli([
      'check',
      'endpoint',
      'jabber.lab',
      '--connect-to',
      '127.0.0.1',
      '-p',
      String(front.ports[service]),
      ...(service === 'xmppStarttls' ? ['--starttls', 'xmpp'] : []),
      '--pin',
      pin,
      '--ca-file',
      join(work, 'root.pem'),
      '--ct-policy',
      'none',
      '--revocation',
      'off',
      '--no-proxy',
    ]);

  it('pass-through: OK on every port', async () => {
    const results = await Promise.all(SERVICE_NAMES.map((service) => check(service)));
    for (const result of results) expect(result.stdout).toMatch(/^CERTVIGIL OK/);
  });

  it('intercepting the XMPP ports: CRITICAL pin-mismatch there, OK on 443', async () => {
    front.intercept({ services: ['xmppStarttls', 'xmppTls'], cert: certs.attacker });
    try {
      const [https, starttls, direct] = await Promise.all(SERVICE_NAMES.map((service) => check(service)));
      expect(https?.code).toBe(0);
      for (const result of [starttls, direct]) {
        expect(result?.code).toBe(2);
        expect(result?.stdout).toContain('pin-mismatch');
      }
    } finally {
      front.stopIntercepting();
    }
  });
});
