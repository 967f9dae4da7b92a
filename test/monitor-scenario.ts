/**
 * The jabber.ru scenario on the local CT log: an organisation renews www.example.test regularly
 * through its own ACME client (certificates in its inventory), and an attacker who intercepts its
 * traffic gets a certificate for the same name from the same CA with another key, days after the
 * last renewal. Plus noise: other names, bulk entries and a malformed entry.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appendBulk, TestCa, TestLog } from './fixtures/ct-log/index.js';

const DAY = 86_400_000;

export interface Scenario {
  ca: TestCa;
  log: TestLog;
  /** TBS hashes (hex) are what `certs list` reports; these are the expected ones by role. */
  watchlist: string;
  inventoryDir: string;
  attackerName: string;
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

export async function buildScenario(
  dir: string,
  options: { bulk?: number; staticCtApi?: boolean } = {},
): Promise<Scenario> {
  const ca = await TestCa.create();
  const log = new TestLog({ name: 'certvigil scenario log', staticCtApi: options.staticCtApi ?? true });
  const ourKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const now = Date.now();
  const names = ['www.example.test', 'example.test'];

  // Regular renewals every 60 days by our ACME client, the last one 5 days ago.
  const first = ca.issue({
    dnsNames: names,
    subjectKey: ourKey,
    notBefore: new Date(now - 125 * DAY),
    validityDays: 90,
  });
  log.addCertificate(first);
  const second = log.addPrecertificate(ca, {
    dnsNames: names,
    subjectKey: ourKey,
    notBefore: new Date(now - 65 * DAY),
    validityDays: 90,
    alsoLogFinal: true,
  });
  const third = log.addPrecertificate(ca, {
    dnsNames: names,
    subjectKey: ourKey,
    notBefore: new Date(now - 5 * DAY),
    validityDays: 90,
    alsoLogFinal: true,
  });
  // Noise: names nobody watches, bulk traffic, and a malformed entry.
  log.addCertificate(ca.issue({ dnsNames: ['www.other.test'] }));
  log.addRaw(Buffer.from('definitely not DER'));
  appendBulk(log, ca, { count: options.bulk ?? 500 });
  // The attacker: same CA, same name, another key, 2 days after the last renewal; precert + final.
  log.addPrecertificate(ca, {
    dnsNames: ['www.example.test'],
    subjectKey: ca.attackerKey.publicKey,
    notBefore: new Date(now - 3 * DAY),
    validityDays: 90,
    alsoLogFinal: true,
  });
  log.publish();

  const inventoryDir = join(dir, 'inventory');
  await mkdir(inventoryDir, { recursive: true });
  await writeFile(join(inventoryDir, 'www.example.test-1.pem'), pem(first.der));
  await writeFile(join(inventoryDir, 'www.example.test-2.pem'), pem(second.finalCert.der));
  await writeFile(join(inventoryDir, 'www.example.test-3.pem'), pem(third.finalCert.der));
  const watchlist = join(dir, 'watchlist');
  await writeFile(watchlist, '# scenario\n.example.test\n');
  return { ca, log, watchlist, inventoryDir, attackerName: 'www.example.test' };
}
