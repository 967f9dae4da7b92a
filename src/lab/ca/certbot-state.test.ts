/**
 * The victim's certbot state, written by the lab, read by the product's real readers: account
 * discovery (src/acme), the inventory scanner (src/inventory), and the built binary's
 * `caa suggest --acme-dir`, `acme accounts` and `inventory scan` (needs `npm run build`).
 */
import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCa } from '../../../test/fixtures/ct-log/index.js';
import { jsonLines, runCli } from '../../../test/cli-run.js';
import { discoverAccounts } from '../../acme/index.js';
// The inventory's own renewal-conf parser (not exported): the file must read as certbot's does.
import { parseCertbotRenewalConf } from '../../inventory/formats.js';
import { scanInventory } from '../../inventory/index.js';
import { LabAcmeCa } from './ca.js';
import { writeCertbotState } from './certbot-state.js';
import type { CertbotState } from './certbot-state.js';
import type { LabAccount, LabCertificate } from './types.js';

const DIRECTORY = 'https://ca.lab/acme/directory';
let tmp: string;
let state: CertbotState;
let account: LabAccount;
const issued: LabCertificate[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lab-certbot-'));
  const engine = await TestCa.create({ commonName: 'Lab CA R1' });
  // Neither validation nor CAA is what this file tests: every challenge passes, no CAA records.
  const noCaa = new LabAcmeCa({
    issuerDomain: 'ca.lab',
    directoryUrl: DIRECTORY,
    engine,
    resolver: {
      query: async () => ({
        rcode: 'NXDOMAIN',
        flags: { authenticData: false },
        validation: 'unauthenticated',
        answers: [],
        authorities: [],
        extendedErrors: [],
      }),
    },
    validator: { validate: async (c) => ({ name: c.name, ok: true, detail: 'stub' }) },
  });
  account = noCaa.newAccount('victim');
  // Three renewals, 60 days apart (certbot's cadence), the last one current.
  for (const daysAgo of [125, 65, 5]) {
    const r = await noCaa.order({
      accountUri: account.uri,
      names: ['jabber.lab', 'xmpp.jabber.lab'],
      method: 'http-01',
      notBefore: new Date(Date.now() - daysAgo * 86_400_000),
    });
    if (r.status !== 'issued') throw new Error(r.reason);
    issued.push(r.certificate);
  }
  state = await writeCertbotState(join(tmp, 'letsencrypt'), {
    directoryUrl: DIRECTORY,
    accountUri: account.uri,
    accountKey: account.key,
    name: 'jabber.lab',
    certificates: issued.map((c) => ({ der: c.der, chainPem: c.chainPem, keyPem: c.keyPem ?? '' })),
    authenticator: 'webroot',
  });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('writeCertbotState', () => {
  it('lays out accounts/, renewal/, archive/ and live/ as certbot does', async () => {
    expect(state.accountDir).toBe(
      join(state.dir, 'accounts', 'ca.lab', 'acme', 'directory', state.accountId),
    );
    expect(state.accountId).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(await readFile(join(state.accountDir, 'regr.json'), 'utf8'))).toEqual({
      body: {},
      uri: account.uri,
    });
    expect((await stat(join(state.accountDir, 'private_key.json'))).mode & 0o777).toBe(0o400);
    expect((await stat(join(state.dir, 'archive'))).mode & 0o777).toBe(0o700);
    for (const n of [1, 2, 3]) {
      expect((await stat(join(state.archiveDir, `privkey${n}.pem`))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(state.archiveDir, `fullchain${n}.pem`), 'utf8')).toBe(
        issued[n - 1]?.fullchainPem,
      );
    }
    expect((await lstat(join(state.liveDir, 'cert.pem'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(state.liveDir, 'privkey.pem'))).toBe('../../archive/jabber.lab/privkey3.pem');
    expect(await readFile(join(state.liveDir, 'cert.pem'), 'utf8')).toBe(issued[2]?.pem);
    const conf = parseCertbotRenewalConf(await readFile(state.renewalConf, 'utf8'));
    expect(conf.renewalParams.get('account')).toBe(state.accountId);
    expect(conf.renewalParams.get('server')).toBe(DIRECTORY);
    expect(conf.renewalParams.get('authenticator')).toBe('webroot');
    expect(conf.top.get('cert')).toBe(join(state.liveDir, 'cert.pem'));
  });

  it('src/acme finds the account, its CA directory and http-01', async () => {
    const found = await discoverAccounts([state.dir]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      client: 'certbot',
      accountUri: account.uri,
      caDirectory: DIRECTORY,
      challengeTypes: ['http-01'],
      names: ['jabber.lab', 'xmpp.jabber.lab'],
    });
  });

  it('src/inventory lists every certificate ever obtained, the current one from live/', async () => {
    const inv = await scanInventory([state.dir]);
    expect(inv.errors).toEqual([]);
    const serials = new Set(inv.certificates.map((c) => c.serial.toLowerCase()));
    for (const c of issued) expect(serials.has(c.serialHex)).toBe(true);
    expect(inv.managedNames).toEqual(expect.arrayContaining(['jabber.lab', 'xmpp.jabber.lab']));
  });

  it('rewrites a lineage with the certificates given', async () => {
    const dir = join(tmp, 'rewrite');
    const one = issued.slice(0, 1).map((c) => ({ der: c.der, chainPem: c.chainPem, keyPem: c.keyPem ?? '' }));
    const base = {
      directoryUrl: DIRECTORY,
      accountUri: account.uri,
      name: 'jabber.lab',
      authenticator: 'webroot' as const,
    };
    await writeCertbotState(dir, { ...base, certificates: [...one, ...one] });
    const again = await writeCertbotState(dir, { ...base, certificates: one });
    expect(await readlink(join(again.liveDir, 'cert.pem'))).toBe('../../archive/jabber.lab/cert1.pem');
    await expect(stat(join(again.archiveDir, 'cert2.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(writeCertbotState(dir, { ...base, name: '../x', certificates: one })).rejects.toMatchObject({
      code: 'LAB_INVALID_REQUEST',
    });
  });
});

describe('the built binary reads it', () => {
  it('caa suggest --acme-dir binds issue to the account and http-01', async () => {
    const r = await runCli(['caa', 'suggest', 'jabber.lab', '--acme-dir', state.dir, '--ca', 'ca.lab']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`issue "ca.lab; accounturi=${account.uri}; validationmethods=http-01"`);
  });

  it('acme accounts lists the account', async () => {
    const r = await runCli(['acme', 'accounts', '--acme-dir', state.dir, '--ca', 'ca.lab', '--json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([
      expect.objectContaining({ accountUri: account.uri, caIssuer: 'ca.lab' }),
    ]);
  });

  it('inventory scan stores every certificate', async () => {
    const r = await runCli([
      'inventory',
      'scan',
      '--inventory',
      state.dir,
      '--state-dir',
      join(tmp, 'cv-state'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const text = r.stdout;
    for (const c of issued) expect(text).toContain(c.serialHex);
  });
});
