import { describe, expect, it } from 'vitest';
import { InventoryFault } from './errors.js';
import {
  acmeShNames,
  parseAcmeShConf,
  parseCaddyMeta,
  parseCertbotRenewalConf,
  parseDehydratedDomainsTxt,
  parseLegoResource,
  parseTraefikStore,
} from './formats.js';

function faultCode(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof InventoryFault) return err.code;
    throw err;
  }
  return 'no fault';
}

// Written by certbot 2.1.0 (Debian bookworm) for `certonly --webroot` against pebble; paths shortened.
const CERTBOT_CONF = `# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/example.com
cert = /etc/letsencrypt/live/example.com/cert.pem
privkey = /etc/letsencrypt/live/example.com/privkey.pem
chain = /etc/letsencrypt/live/example.com/chain.pem
fullchain = /etc/letsencrypt/live/example.com/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = 67657770365c240c253b9f01d801b843
server = https://127.0.0.1:14000/dir
authenticator = webroot
webroot_path = /var/www,
key_type = ecdsa
[[webroot_map]]
example.com = /var/www
www.example.com = /var/www
`;

describe('parseCertbotRenewalConf', () => {
  it('reads the top level, [renewalparams] and [[webroot_map]] of a real certbot conf', () => {
    const c = parseCertbotRenewalConf(CERTBOT_CONF);
    expect(c.top.get('archive_dir')).toBe('/etc/letsencrypt/archive/example.com');
    expect(c.top.get('version')).toBe('2.1.0');
    expect(c.renewalParams.get('server')).toBe('https://127.0.0.1:14000/dir');
    expect(c.renewalParams.get('account')).toBe('67657770365c240c253b9f01d801b843');
    expect(c.renewalParams.get('authenticator')).toBe('webroot');
    expect([...c.webrootMap.keys()]).toEqual(['example.com', 'www.example.com']);
  });

  it.each([
    ['quoted value', 'cert = "/a b/cert.pem"', '/a b/cert.pem'],
    ['single-quoted value', "cert = '/x/cert.pem'", '/x/cert.pem'],
    ['inline comment', 'cert = /x/cert.pem  # current', '/x/cert.pem'],
    ['CRLF line end', 'cert = /x/cert.pem\r', '/x/cert.pem'],
  ])('%s', (_name, line, want) => {
    expect(parseCertbotRenewalConf(`${line}\n`).top.get('cert')).toBe(want);
  });

  it.each([
    ['a line without =', 'version = 2.1.0\nthis is not configobj\n'],
    ['unbalanced section header', '[renewalparams]]\n'],
    ['subsection without a section', '[[webroot_map]]\n'],
  ])('rejects %s (certbot skips such a lineage as broken)', (_name, text) => {
    expect(faultCode(() => parseCertbotRenewalConf(text))).toBe('INVENTORY_BAD_CONFIG');
  });
});

describe('parseDehydratedDomainsTxt', () => {
  // Rows from dehydrated docs/domains_txt.md, plus the normalisations of its sed pipeline.
  it.each([
    ['example.org', [{ names: ['example.org'], certDir: 'example.org' }]],
    ['example.com www.example.com', [{ names: ['example.com', 'www.example.com'], certDir: 'example.com' }]],
    [
      'example.net www.example.net wiki.example.net > certalias',
      [{ names: ['example.net', 'www.example.net', 'wiki.example.net'], certDir: 'certalias' }],
    ],
    [
      '*.service.example.com > star_service_example_com',
      [{ names: ['*.service.example.com'], certDir: 'star_service_example_com' }],
    ],
    ['example.com>alias', [{ names: ['example.com'], certDir: 'alias' }]],
    [
      '  Example.COM\t WWW.example.com  \r',
      [{ names: ['example.com', 'www.example.com'], certDir: 'example.com' }],
    ],
    ['# example.com\n\n   \n', []],
  ])('%j', (text, want) => {
    expect(parseDehydratedDomainsTxt(text)).toEqual(want);
  });
});

describe('parseAcmeShConf / acmeShNames', () => {
  const b64 = Buffer.from('echo hi').toString('base64');
  it.each([
    // acme.sh 3.x _save_conf writes single quotes; older versions double quotes.
    [
      "Le_Domain='example.com'\nLe_Alt='www.example.com,api.example.com'",
      ['example.com', 'www.example.com', 'api.example.com'],
    ],
    ['Le_Domain="example.com"\nLe_Alt="no"', ['example.com']],
    ['Le_Domain=example.com\nLe_Alt=no', ['example.com']],
    ["Le_Domain='*.example.com'\nLe_Alt='example.com'", ['*.example.com', 'example.com']],
    ["Le_Alt='www.example.com'", ['www.example.com']],
  ])('%j', (text, want) => {
    expect(acmeShNames(parseAcmeShConf(text))).toEqual(want);
  });

  it('decodes __ACME_BASE64__ wrapped values and keeps other keys', () => {
    const c = parseAcmeShConf(
      `Le_Domain='example.com'\nLe_ReloadCmd='__ACME_BASE64__START_${b64}__ACME_BASE64__END_'\nLe_API='https://acme-v02.api.letsencrypt.org/directory'\n`,
    );
    expect(c.get('Le_ReloadCmd')).toBe('echo hi');
    expect(c.get('Le_API')).toBe('https://acme-v02.api.letsencrypt.org/directory');
  });
});

describe('lego and Caddy metadata', () => {
  it('lego certificate resource (as lego 4.9 writes it)', () => {
    const text =
      '{\n\t"domain": "example.net",\n\t"certUrl": "https://127.0.0.1:14000/certZ/4a59",\n\t"certStableUrl": "https://127.0.0.1:14000/certZ/4a59"\n}';
    expect(parseLegoResource(text)).toBe('example.net');
    expect(faultCode(() => parseLegoResource('{"certUrl": "x"}'))).toBe('INVENTORY_BAD_CONFIG');
    expect(faultCode(() => parseLegoResource('{'))).toBe('INVENTORY_BAD_CONFIG');
  });

  it('certmagic metadata (as Caddy 2.6 writes it)', () => {
    const text =
      '{\n\t"sans": [\n\t\t"example.com"\n\t],\n\t"issuer_data": {\n\t\t"url": "https://127.0.0.1:14000/certZ/6233"\n\t}\n}';
    expect(parseCaddyMeta(text)).toEqual(['example.com']);
    expect(faultCode(() => parseCaddyMeta('{"sans": "example.com"}'))).toBe('INVENTORY_BAD_CONFIG');
  });
});

describe('parseTraefikStore', () => {
  const b = (s: string): string => Buffer.from(s).toString('base64');
  const text = (entry: { certificate: Uint8Array | { error: string } | null }): string =>
    entry.certificate instanceof Uint8Array
      ? Buffer.from(entry.certificate).toString()
      : JSON.stringify(entry.certificate);

  it('v2/v3: resolvers, domain main + sans, base64 certificate, Store', () => {
    const store = {
      le: {
        Account: { Email: 'a@example.com', Registration: null, PrivateKey: b('k'), KeyType: '4096' },
        Certificates: [
          {
            domain: { main: 'example.com', sans: ['www.example.com'] },
            certificate: b('PEM1'),
            key: b('K'),
            Store: 'default',
          },
          { domain: { main: 'example.com' }, certificate: b('PEM2'), key: b('K'), Store: 'other' },
        ],
      },
      'le-staging': { Account: null, Certificates: null },
    };
    const entries = parseTraefikStore(JSON.stringify(store));
    expect(entries.map((e) => [e.label, e.names, text(e), e.hasKey])).toEqual([
      ['le/example.com', ['example.com', 'www.example.com'], 'PEM1', true],
      ['le/example.com[1]', ['example.com'], 'PEM2', true],
    ]);
  });

  it('v1.6/1.7: one store, Go field names (matched case-insensitively, as encoding/json does)', () => {
    const store = {
      Account: { Email: 'a@example.com' },
      Certificates: [{ Domain: { Main: 'v1.example.com', SANs: null }, Certificate: b('PEM'), Key: b('K') }],
      HTTPChallenges: {},
      TLSChallenges: {},
    };
    const [e] = parseTraefikStore(JSON.stringify(store));
    expect(e).toMatchObject({ label: 'v1.example.com', names: ['v1.example.com'], hasKey: true });
  });

  it('≤ v1.5: DomainsCertificate.Certs of the account object', () => {
    const store = {
      Email: 'a@example.com',
      DomainsCertificate: {
        Certs: [
          {
            Domains: { Main: 'old.example.com', SANs: ['www.old.example.com'] },
            Certificate: { Domain: 'old.example.com', Certificate: b('PEM'), PrivateKey: b('K') },
          },
        ],
      },
    };
    const [e] = parseTraefikStore(JSON.stringify(store));
    expect(e).toMatchObject({ label: 'old.example.com', names: ['old.example.com', 'www.old.example.com'] });
    expect(text(e as never)).toBe('PEM');
  });

  it('entry-level problems are returned, not thrown; empty certificates are null (Traefik drops them)', () => {
    const store = {
      r: {
        Certificates: [
          { domain: { main: 'bad.example.com' }, certificate: 'not base64!', key: b('K') },
          { domain: { main: 'empty.example.com' }, certificate: '', key: '' },
        ],
      },
    };
    const [bad, empty] = parseTraefikStore(JSON.stringify(store));
    expect(bad?.certificate).toEqual({ error: 'certificate field is not base64' });
    expect(empty).toMatchObject({ certificate: null, hasKey: false });
  });

  it.each([
    ['not JSON', '{"le": '],
    ['no Certificates anywhere', '{"name": "certvigil", "version": "0.1.0"}'],
    ['an array', '[]'],
  ])('rejects %s', (_name, t) => {
    expect(faultCode(() => parseTraefikStore(t))).toBe('INVENTORY_BAD_CONFIG');
  });
});
