/**
 * ACME account discovery against REAL client output: certbot, dehydrated, lego and Caddy (Debian's
 * packages) register accounts with a local pebble CA on loopback (test/fixtures/acme/pebble.ts)
 * and discovery must report each account URL exactly as pebble issued it.
 *
 * Needs the Debian packages pebble, certbot, dehydrated, lego, caddy (and openssl). Without them the
 * suite is skipped on a developer machine and fails under CI=true.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Pebble,
  caddyObtain,
  certbotObtain,
  dehydratedRun,
  dehydratedSetup,
  legoRun,
  onPath,
} from '../../test/fixtures/acme/pebble.js';
import { proveRecords, suggestRecords } from '../caa/suggest/index.js';
import { discoverAccounts } from './index.js';
import type { AcmeAccount } from './index.js';

const missing = ['pebble', 'certbot', 'dehydrated', 'lego', 'caddy', 'openssl'].filter((b) => !onPath(b));
const skip = missing.length > 0 && process.env.CI !== 'true';
const ACCT_RE = /^https:\/\/127\.0\.0\.1:\d+\/my-account\/[0-9a-f]+$/;

describe.skipIf(skip)('ACME account discovery on real client output (pebble on loopback)', () => {
  let dir: string;
  let pebble: Pebble | undefined;
  let le: string;
  let dh: string;
  let lg: string;
  let cd: string;

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`Debian packages missing for this suite: ${missing.join(' ')}`);
    dir = await mkdtemp(join(tmpdir(), 'certvigil-acme-accounts-'));
    pebble = await Pebble.start(join(dir, 'pebble'));
    le = join(dir, 'clients', 'letsencrypt');
    await certbotObtain(pebble, le, 'example.com', ['example.com', 'www.example.com']);
    dh = join(dir, 'clients', 'dehydrated');
    const config = await dehydratedSetup(pebble, dh, 'example.org *.example.org\n');
    await dehydratedRun(pebble, config, 'cron');
    lg = join(dir, 'clients', 'lego', '.lego');
    await legoRun(pebble, lg, ['example.net', 'www.example.net']);
    cd = join(dir, 'clients', 'caddy', 'data');
    await caddyObtain(pebble, cd, ['caddy.example.com']);
  }, 240_000);

  afterAll(async () => {
    await pebble?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const one = (accounts: AcmeAccount[]): AcmeAccount => {
    expect(accounts).toHaveLength(1);
    return accounts[0] as AcmeAccount;
  };

  it('certbot: regr.json uri, server from renewal conf, names from the certificate, webroot → http-01', async () => {
    const a = one(await discoverAccounts([le]));
    expect(a.client).toBe('certbot');
    expect(a.accountUri).toMatch(ACCT_RE);
    expect(a.accountUri).toBe((JSON.parse(await readFile(a.path, 'utf8')) as { uri: string }).uri);
    expect(a.caDirectory).toBe(pebble?.directoryUrl);
    expect(a.caIssuer).toBeNull();
    expect(a.names).toEqual(['example.com', 'www.example.com']);
    expect(a.challengeTypes).toEqual(['http-01']);
  });

  it('dehydrated: account URL, CA from the account directory name, domains.txt, CHALLENGETYPE', async () => {
    const a = one(await discoverAccounts([dh]));
    expect(a.client).toBe('dehydrated');
    expect(a.accountUri).toMatch(ACCT_RE);
    expect(a.caDirectory).toBe(pebble?.directoryUrl);
    expect(a.names).toEqual(['*.example.org', 'example.org']);
    expect(a.challengeTypes).toEqual(['dns-01']);
  });

  it('lego: account.json registration.uri and certificate names', async () => {
    const a = one(await discoverAccounts([join(lg, '..')]));
    expect(a.client).toBe('lego');
    expect(a.accountUri).toMatch(ACCT_RE);
    expect(a.names).toEqual(['example.net', 'www.example.net']);
  });

  it('caddy: certmagic user registration location', async () => {
    const a = one(await discoverAccounts([cd]));
    expect(a.client).toBe('caddy');
    expect(a.accountUri).toMatch(ACCT_RE);
    expect(a.names).toEqual(['caddy.example.com']);
  });

  it('all three at once, distinct accounts', async () => {
    const all = await discoverAccounts([le, dh, lg]);
    expect(all.map((a) => a.client).sort()).toEqual(['certbot', 'dehydrated', 'lego']);
    expect(new Set(all.map((a) => a.accountUri)).size).toBe(3);
  });

  it('the suggested CAA RRset for the dehydrated account (issuer given, as for any unknown CA) is proven', async () => {
    const a = one(await discoverAccounts([dh]));
    const accounts = [
      {
        issuer: 'pebble.test',
        accountUri: a.accountUri,
        methods: a.challengeTypes,
        wildcard: a.names.some((n) => n.startsWith('*.')),
      },
    ];
    const records = suggestRecords(accounts);
    expect(records).toEqual([
      { flags: 0, tag: 'issue', value: `pebble.test; accounturi=${a.accountUri}; validationmethods=dns-01` },
      {
        flags: 0,
        tag: 'issuewild',
        value: `pebble.test; accounturi=${a.accountUri}; validationmethods=dns-01`,
      },
    ]);
    const proof = await proveRecords('example.org', accounts, records);
    expect(proof.holds).toBe(true);
  });
});
