/**
 * `certvigil inventory push` through the built binary against the real server app (createApp over
 * @hono/node-server on 127.0.0.1, plain HTTP and HTTPS with a private CA) and a real SQLite store:
 * where the token comes from, least privilege (403 for another host), and that a refused or
 * impossible push changes nothing.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import type { AccessRole, Store } from '../src/store/index.js';
import { createPki } from './fixtures/tls/pki.js';
import type { Pki, PkiCert } from './fixtures/tls/pki.js';
import { jsonLines, runCli } from './cli-run.js';
import { closeServer, listenApp, silentLogger } from './fixtures/server.js';
import { createTokenFile, HOST_TOKENS } from './fixtures/tokens.js';

let work: string;
let store: Store;
let pki: Pki;
let root: PkiCert;
const servers: ServerType[] = [];
let url: string;
let httpsUrl: string;
const secrets: Record<string, string> = {};
const files: Record<string, string> = {};
let inventory: string;

async function token(name: string, role: AccessRole): Promise<void> {
  ({ secret: secrets[name], file: files[name] } = await createTokenFile(store, work, name, role));
}

async function listen(
  app: ReturnType<typeof createApp>,
  tls?: { key: string; cert: string },
): Promise<string> {
  const { url, server } = await listenApp(app, tls);
  servers.push(server);
  return url;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-push-'));
  pki = createPki();
  root = pki.root('certvigil push test root');
  const leaf = pki.issue(root, { cn: 'localhost', dns: ['localhost'] });
  const host = pki.issue(root, { cn: 'www.example.test', dns: ['www.example.test', 'example.test'] });
  inventory = join(work, 'inventory');
  await mkdir(inventory);
  await writeFile(join(inventory, 'www.pem'), host.certPem);
  store = await openStore({ stateDir: join(work, 'state') });
  await store.migrate();
  for (const [name, role] of HOST_TOKENS) await token(name, role);
  const app = createApp({ store, logger: silentLogger, secureCookies: false });
  url = await listen(app);
  httpsUrl = await listen(app, { key: leaf.keyPem, cert: leaf.certPem });
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map(closeServer));
  await store?.close();
  pki?.cleanup();
  await rm(work, { recursive: true, force: true });
});

const push = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['inventory', 'push', '--inventory', inventory, ...args], { CERTVIGIL_TOKEN: '', ...env });

describe('inventory push', () => {
  it('pushes with $CERTVIGIL_TOKEN (no token on the command line) and replaces the host inventory', async () => {
    const r = await push(['--server', url, '--host', 'web1'], { CERTVIGIL_TOKEN: secrets.web1 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('pushed 1 certificates for host web1\n');
    const items = await store.listHostInventory('web1');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ host: 'web1', dnsNames: ['www.example.test', 'example.test'] });
    expect(items[0]?.tbsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--json prints the server answer; the host name is case-insensitive', async () => {
    const r = await push(['--server', url, '--host', 'WEB1', '--token-file', files.web1 ?? '', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([{ host: 'web1', items: 1, pushedAt: expect.any(String) }]);
  });

  it('over HTTPS: verified against --ca-file; without it the private CA is refused (exit 2)', async () => {
    const ok = await push([
      '--server',
      httpsUrl,
      '--host',
      'web2',
      '--token-file',
      files.web2 ?? '',
      '--ca-file',
      root.certFile,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await push(['--server', httpsUrl, '--host', 'web2', '--token-file', files.web2 ?? '']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^certvigil: server https:\/\/localhost:\d+ unreachable: .*certificate/);
  });

  it('an admin token may push for any host; a viewer token for another host is refused (403, exit 2)', async () => {
    expect((await push(['--server', url, '--host', 'db1', '--token-file', files.ops ?? ''])).code).toBe(0);
    const r = await push(['--server', url, '--host', 'web1', '--token-file', files.web2 ?? '']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'certvigil: push refused: HTTP 403: a viewer token may push only for the host named like the token (token not allowed)\n',
    );
  });

  it.each([
    [
      'a wrong token (401)',
      ['--server', 'URL', '--host', 'web1', '--token', 'cvt_wrong'],
      /push refused: HTTP 401/,
    ],
    ['no token', ['--server', 'URL', '--host', 'web1'], /give the API token/],
    [
      '--token and --token-file',
      ['--server', 'URL', '--host', 'web1', '--token', 'x', '--token-file', 'y'],
      /not both/,
    ],
    [
      'a token with a line break',
      ['--server', 'URL', '--host', 'web1', '--token', 'a\nX-Evil: 1'],
      /--token is not an API token/,
    ],
    ['no --server', ['--host', 'web1', '--token', 'x'], /give --server URL/],
    [
      'plain http to another machine',
      ['--server', 'http://certvigil.example.net', '--host', 'web1', '--token', 'x'],
      /would send the token in clear/,
    ],
    ['a bad host name', ['--server', 'URL', '--host', '../web1', '--token', 'x'], /is not a host name/],
    ['a bad --timeout', ['--server', 'URL', '--host', 'web1', '--token', 'x', '--timeout', '0'], /--timeout/],
    [
      'a missing inventory path',
      ['--server', 'URL', '--host', 'web1', '--token', 'x', '--inventory', '/nonexistent/certs'],
      /inventory path/,
    ],
    [
      'a server that is not there',
      ['--server', 'http://127.0.0.1:9', '--host', 'web1', '--token-file', 'TOKEN'],
      /server http:\/\/127\.0\.0\.1:9 unreachable/,
    ],
  ])('exit 2, one line, nothing pushed: %s', async (_, args, message) => {
    const before = await store.listHostInventory();
    const r = await push(args.map((a) => (a === 'URL' ? url : a === 'TOKEN' ? (files.web1 ?? '') : a)));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain(secrets.web1 ?? '-');
    expect(await store.listHostInventory()).toEqual(before);
  });

  it('exit 1 when a file could not be read: the rest is pushed, the file listed on stderr', async () => {
    const partial = join(work, 'partial');
    await mkdir(partial);
    await writeFile(
      join(partial, 'broken.pem'),
      '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n',
    );
    const r = await runCli([
      'inventory',
      'push',
      '--inventory',
      partial,
      '--inventory',
      inventory,
      '--server',
      url,
      '--host',
      'web1',
      '--token-file',
      files.web1 ?? '',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('pushed 1 certificates for host web1\n');
    expect(r.stderr).toMatch(/^unreadable: .*broken\.pem/m);
    expect(await readdir(partial)).toEqual(['broken.pem']); // nothing written locally
  });

  it('--help states the exit statuses', async () => {
    const r = await runCli(['inventory', 'push', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit status: 0 pushed/);
  });
});
