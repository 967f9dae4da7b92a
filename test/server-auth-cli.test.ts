/**
 * `certvigil token create|list|revoke` and `certvigil user add|list|remove` through the built
 * binary (issue 16 CONTRACT: `token create` prints the new token alone on stdout's first line), and
 * the credentials they make accepted by the server (`createApp` over the same state directory).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import { jsonLines, runCli, runCliWithStdin } from './cli-run.js';
import { runTokenCreate } from './fixtures/tokens.js';
import { form, silentLogger } from './server-auth-kit.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-auth-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let counter = 0;
const fresh = (): string => join(work, `state-${++counter}`);

/** The server over `stateDir`, with a probe route behind authentication. */
async function serverOver(stateDir: string): Promise<{
  request: (path: string, init?: RequestInit) => Promise<Response>;
  close: () => Promise<void>;
}> {
  const store = await openStore({ stateDir });
  await store.migrate();
  const app = createApp({ store, logger: silentLogger, secureCookies: false });
  app.get('/whoami', (c) => c.json(c.get('principal')));
  return { request: async (path, init) => app.request(path, init), close: () => store.close() };
}

describe('certvigil token', () => {
  it('create prints the token alone on stdout line 1; a request with it succeeds; revoke ends it', async () => {
    const stateDir = fresh();
    const made = await runTokenCreate(stateDir, 'viewer', ['--name', 'prometheus']);
    expect(made.code).toBe(0);
    const lines = made.stdout.split('\n');
    expect(lines[0]).toMatch(/^cvt_[A-Za-z0-9_-]{43}$/);
    expect(lines.slice(1).join('')).toBe('');
    const token = lines[0] ?? '';
    const id = /token ([0-9a-f]{16}) \(viewer\) created; it is shown once/.exec(made.stderr)?.[1];
    expect(id).toBeDefined();

    const server = await serverOver(stateDir);
    try {
      const ok = await server.request('/whoami', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ kind: 'token', id, role: 'viewer', name: 'prometheus' });
      // and on the login form
      const login = await server.request('/login', form({ token }));
      expect(login.status).toBe(303);
      expect(login.headers.get('set-cookie')).toMatch(/^certvigil_session=/);
    } finally {
      await server.close();
    }

    const list = await runCli(['token', 'list', '--state-dir', stateDir, '--json']);
    expect(list.code).toBe(0);
    const [row] = jsonLines(list.stdout);
    expect(row).toMatchObject({ id, name: 'prometheus', role: 'viewer', status: 'valid', revokedAt: null });
    expect(row).not.toHaveProperty('tokenSha256');
    expect(list.stdout).not.toContain(token);
    expect(list.stdout).not.toContain(token.slice(4));

    const revoked = await runCli(['token', 'revoke', id ?? '', '--state-dir', stateDir]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked token ${id}\n` });
    const after = await serverOver(stateDir);
    try {
      const res = await after.request('/whoami', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(303); // a page: back to /login
      const api = await after.request('/api/v1/anything', { headers: { authorization: `Bearer ${token}` } });
      expect(api.status).toBe(401);
    } finally {
      await after.close();
    }
    const text = await runCli(['token', 'list', '--state-dir', stateDir]);
    expect(text.stdout).toMatch(new RegExp(`^${id} viewer revoked `));
  });

  it('create --expires sets the expiry (90d is longer than any timer, still fine)', async () => {
    const stateDir = fresh();
    const made = await runTokenCreate(stateDir, 'admin', ['--expires', '90d']);
    expect(made.code).toBe(0);
    const [row] = jsonLines((await runCli(['token', 'list', '--state-dir', stateDir, '--json'])).stdout);
    const days = (Date.parse(String(row?.expiresAt)) - Date.parse(String(row?.createdAt))) / 86_400_000;
    expect(days).toBe(90);
  });

  it.each([
    ['no --role', ['token', 'create']],
    ['an unknown role', ['token', 'create', '--role', 'root']],
    ['a bad --expires', ['token', 'create', '--role', 'viewer', '--expires', '5y']],
    ['--expires over 10 years', ['token', 'create', '--role', 'viewer', '--expires', '3651d']],
    ['an empty --name', ['token', 'create', '--role', 'viewer', '--name', '']],
    ['a --name with an escape', ['token', 'create', '--role', 'viewer', '--name', 'a\u001b[2Jb']],
    ['a --name with a bidi override', ['token', 'create', '--role', 'viewer', '--name', 'a\u202eb']],
    ['a --name of 101 characters', ['token', 'create', '--role', 'viewer', '--name', 'n'.repeat(101)]],
    ['list of a state never made', ['token', 'list']],
    ['revoke of a state never made', ['token', 'revoke', '0123456789abcdef']],
    ['revoke of a bad ID', ['token', 'revoke', '../x']],
  ])('%s: exit 2, one line, nothing created', async (_why, args) => {
    const stateDir = fresh();
    const res = await runCli([...args, '--state-dir', stateDir]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^certvigil: [^\n]+\n$/);
    expect(res.stderr).not.toContain('\u001b');
    expect(existsSync(stateDir)).toBe(false);
  });

  it('revoke of an unknown ID: exit 2', async () => {
    const stateDir = fresh();
    await runCli(['token', 'create', '--state-dir', stateDir, '--role', 'viewer']);
    const res = await runCli(['token', 'revoke', 'ffffffffffffffff', '--state-dir', stateDir]);
    expect(res).toMatchObject({ code: 2, stdout: '', stderr: 'certvigil: no token ffffffffffffffff\n' });
  });

  it.each([['create'], ['list'], ['revoke']])('token %s --help states the exit statuses', async (sub) => {
    const res = await runCli(['token', sub, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Exit status: 0 [^]*2 /);
  });
});

describe('certvigil user', () => {
  it('add --password-stdin, then the server lets the user in; list; remove ends their sessions', async () => {
    const stateDir = fresh();
    const added = await runCliWithStdin(
      ['user', 'add', 'alice', '--role', 'admin', '--password-stdin', '--state-dir', stateDir],
      'correct horse battery staple\n',
    );
    expect(added).toMatchObject({ code: 0, stdout: 'added user "alice" (admin)\n' });

    const server = await serverOver(stateDir);
    let cookie = '';
    try {
      const res = await server.request(
        '/login',
        form({ name: 'alice', password: 'correct horse battery staple' }),
      );
      expect(res.status).toBe(303);
      cookie = /certvigil_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
      const me = await server.request('/whoami', { headers: { cookie: `certvigil_session=${cookie}` } });
      expect(await me.json()).toMatchObject({ kind: 'user', id: 'alice', role: 'admin' });
    } finally {
      await server.close();
    }

    const list = await runCli(['user', 'list', '--state-dir', stateDir, '--json']);
    expect(jsonLines(list.stdout)).toEqual([{ name: 'alice', role: 'admin', createdAt: expect.any(String) }]);
    expect(list.stdout).not.toContain('scrypt');

    const again = await runCliWithStdin(
      ['user', 'add', 'alice', '--role', 'viewer', '--password-stdin', '--state-dir', stateDir],
      'another long password\n',
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^certvigil: user "alice" exists already/);

    expect((await runCli(['user', 'remove', 'alice', '--state-dir', stateDir])).code).toBe(0);
    const gone = await serverOver(stateDir);
    try {
      const me = await gone.request('/whoami', { headers: { cookie: `certvigil_session=${cookie}` } });
      expect(me.status).toBe(303);
    } finally {
      await gone.close();
    }
    expect((await runCli(['user', 'remove', 'alice', '--state-dir', stateDir])).stderr).toBe(
      'certvigil: no user "alice"\n',
    );
  });

  it.each([
    ['a short password', ['alice'], 'elevenchars\n', /at least 12 characters/],
    ['an empty password', ['alice'], '\n', /at least 12 characters/],
    ['a bad name', ['al ice'], 'correct horse battery\n', /user name must be/],
    ['a name with an escape', ['a\u001bb'], 'correct horse battery\n', /user name must be/],
    ['an unknown role', ['alice', '--role', 'root'], 'correct horse battery\n', /argument 'root' is invalid/],
  ])('add with %s: exit 2, one line, nothing created', async (_why, args, stdin, message) => {
    const stateDir = fresh();
    const withRole = args.includes('--role') ? args : [...args, '--role', 'viewer'];
    const res = await runCliWithStdin(
      ['user', 'add', ...withRole, '--password-stdin', '--state-dir', stateDir],
      stdin,
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^certvigil: [^\n]+\n$/);
    expect(res.stderr).toMatch(message);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('add without --password-stdin and without a terminal: exit 2, nothing created', async () => {
    const stateDir = fresh();
    const res = await runCliWithStdin(
      ['user', 'add', 'bob', '--role', 'viewer', '--state-dir', stateDir],
      '',
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^certvigil: no terminal to ask for the password/);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('list of a state never made: exit 2, nothing created', async () => {
    const stateDir = fresh();
    const res = await runCli(['user', 'list', '--state-dir', stateDir]);
    expect(res.code).toBe(2);
    expect(existsSync(stateDir)).toBe(false);
  });

  it.each([['add'], ['list'], ['remove']])('user %s --help states the exit statuses', async (sub) => {
    const res = await runCli(['user', sub, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Exit status: 0 [^]*2 /);
  });
});
