/**
 * Discovery on documented formats of clients not run for real here (acme.sh, Traefik,
 * cert-manager), plus the CA map. Each fixture follows the source named above it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAcmeDirs, discoverAccounts, issuerForUrl } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-acme-formats-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(path: string, body: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, body);
  return path;
}

describe('issuerForUrl', () => {
  it('maps known CAs and leaves others unknown', () => {
    expect(issuerForUrl('https://acme-v02.api.letsencrypt.org/directory')).toBe('letsencrypt.org');
    expect(issuerForUrl('https://acme-staging-v02.api.letsencrypt.org/directory')).toBe('letsencrypt.org');
    expect(issuerForUrl('https://dv.acme-v02.api.pki.goog/directory')).toBe('pki.goog');
    expect(issuerForUrl('https://acme.zerossl.com/v2/DV90')).toBe('sectigo.com');
    expect(issuerForUrl('https://127.0.0.1:14000/dir')).toBeNull();
    expect(issuerForUrl('not a url')).toBeNull();
  });
});

describe('acme.sh', () => {
  // acmesh-official/acme.sh: `_regAccount` saves ACCOUNT_URL to $CA_CONF = ca/<host>/<path>/ca.conf;
  // `_savedomainconf` writes Le_Domain, Le_Alt, Le_Webroot, Le_API to <domain>[_ecc]/<domain>.conf.
  it('reads ACCOUNT_URL and the domain confs of that CA', async () => {
    const root = join(dir, 'acme.sh');
    const api = 'https://acme-v02.api.letsencrypt.org/directory';
    await put(
      join(root, 'ca/acme-v02.api.letsencrypt.org/directory/ca.conf'),
      "ACCOUNT_URL='https://acme-v02.api.letsencrypt.org/acme/acct/42'\nCA_EMAIL=''\n",
    );
    await put(
      join(root, 'example.com_ecc/example.com.conf'),
      `Le_Domain='example.com'\nLe_Alt='*.example.com'\nLe_Webroot='dns_cf'\nLe_API='${api}'\n`,
    );
    await put(
      join(root, 'www.example.org/www.example.org.conf'),
      `Le_Domain='www.example.org'\nLe_Alt='no'\nLe_Webroot='/var/www/html'\nLe_API='${api}'\n`,
    );
    await put(
      join(root, 'other.example/other.example.conf'),
      "Le_Domain='other.example'\nLe_Webroot='no'\nLe_API='https://acme.zerossl.com/v2/DV90'\n",
    );
    const [a, ...rest] = await discoverAccounts([root]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      client: 'acme.sh',
      caDirectory: api,
      caIssuer: 'letsencrypt.org',
      accountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/42',
      names: ['*.example.com', 'example.com', 'www.example.org'],
      challengeTypes: ['dns-01', 'http-01'],
    });
  });
});

describe('Traefik acme.json', () => {
  // traefik/traefik pkg/provider/acme/local_store.go (StoredData per resolver) and account.go
  // (Account.Registration *registration.Resource {body, uri}); doc.traefik.io "ACME storage".
  it('reads each resolver account and its certificate domains', async () => {
    const file = await put(
      join(dir, 'traefik', 'acme.json'),
      JSON.stringify({
        le: {
          Account: {
            Email: 'a@example.com',
            Registration: {
              body: { status: 'valid' },
              uri: 'https://acme-v02.api.letsencrypt.org/acme/acct/7',
            },
            PrivateKey: 'x',
            KeyType: '4096',
          },
          Certificates: [
            {
              domain: { main: 'example.com', sans: ['www.example.com'] },
              certificate: '',
              key: '',
              Store: 'default',
            },
          ],
        },
        empty: { Account: null, Certificates: null },
      }),
    );
    const accounts = await discoverAccounts([file]);
    expect(accounts).toEqual([
      expect.objectContaining({
        client: 'traefik',
        caIssuer: 'letsencrypt.org',
        accountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/7',
        names: ['example.com', 'www.example.com'],
        challengeTypes: [],
      }),
    ]);
    expect(await discoverAccounts([join(dir, 'traefik')])).toHaveLength(1);
  });
});

describe('cert-manager Issuer YAML', () => {
  // cert-manager.io/docs/configuration/acme/ (spec.acme.server, solvers http01/dns01, selector)
  // and pkg/apis/acme/v1 ACMEIssuerStatus {uri, lastRegisteredEmail}.
  it('reads status.acme.uri, spec.acme.server and solver types from a multi-document export', async () => {
    const file = await put(
      join(dir, 'cm', 'issuers.yaml'),
      [
        'apiVersion: cert-manager.io/v1',
        'kind: ClusterIssuer',
        'metadata: {name: letsencrypt}',
        'spec:',
        '  acme:',
        '    server: https://acme-v02.api.letsencrypt.org/directory',
        '    privateKeySecretRef: {name: le-key}',
        '    solvers:',
        '      - http01: {ingress: {ingressClassName: nginx}}',
        '      - dns01: {cloudflare: {apiTokenSecretRef: {name: cf, key: token}}}',
        '        selector: {dnsZones: [example.com]}',
        'status:',
        '  acme: {uri: "https://acme-v02.api.letsencrypt.org/acme/acct/99", lastRegisteredEmail: a@example.com}',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: unrelated}',
        '---',
        'apiVersion: cert-manager.io/v1',
        'kind: Issuer',
        'metadata: {name: not-registered-yet}',
        'spec: {acme: {server: https://acme.zerossl.com/v2/DV90, solvers: []}}',
      ].join('\n'),
    );
    expect(await discoverAccounts([file])).toEqual([
      expect.objectContaining({
        client: 'cert-manager',
        caDirectory: 'https://acme-v02.api.letsencrypt.org/directory',
        caIssuer: 'letsencrypt.org',
        accountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/99',
        names: ['example.com'],
        challengeTypes: ['dns-01', 'http-01'],
      }),
    ]);
  });

  it('ignores paths that do not exist or hold nothing', async () => {
    expect(await discoverAccounts([join(dir, 'nope'), join(dir, 'cm', 'issuers.yaml') + '.x'])).toEqual([]);
  });
});

describe('defaultAcmeDirs', () => {
  it('uses per-user locations only under an absolute HOME (never paths relative to the current directory)', () => {
    expect(defaultAcmeDirs('/home/u')).toContain('/home/u/.acme.sh');
    for (const home of ['', 'relative/home'])
      expect(defaultAcmeDirs(home).every((d) => d.startsWith('/'))).toBe(true);
  });
});
