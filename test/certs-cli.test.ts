/**
 * `certvigil certs list|show|authorize|unauthorize` and the other read-only state commands
 * (`iodef list`, `mitm show`) against a state written through the store API (issue 12): read-only
 * commands create nothing, authorisations say what they matched, notes are shown, outside text
 * is escaped.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of store's API
import { LOG_A, batch, ensureLogA, issuance, sha256Hex } from '../src/store/store.fixture.js';
import { startPostgres } from './harness/postgres.js';
import type { PostgresServer } from './harness/postgres.js';
import { jsonLines, runCli } from './cli-run.js';

let work: string;
let pg: PostgresServer;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-certs-cli-'));
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  await rm(work, { recursive: true, force: true });
});

const OURS = issuance({ index: 0, dnsNames: ['www.example.com', 'example.com'] });
const EVIL = issuance({
  index: 1,
  dnsNames: ['evil\u202etset.example.com'],
  issuer: 'CN=Bad \u001b[2J CA',
});

let counter = 0;
/** A SQLite state holding two issuances, as the monitor would have committed them. */
async function state(): Promise<string> {
  const stateDir = join(work, `state-${++counter}`);
  const store = await openStore({ stateDir });
  try {
    await store.migrate();
    await ensureLogA(store);
    await store.commitBatch(batch(LOG_A, 0, 2, { issuances: [OURS, EVIL] }));
  } finally {
    await store.close();
  }
  return stateDir;
}

/** stderr without JSON log lines. */
const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"level"'));

describe('read-only commands never create state (issue 12)', () => {
  const readers: [string, string[]][] = [
    ['certs list', ['certs', 'list']],
    ['certs show', ['certs', 'show', 'abcdef0123']],
    ['iodef list', ['iodef', 'list']],
    ['mitm show', ['mitm', 'show']],
    ['certs unauthorize', ['certs', 'unauthorize', 'abcdef0123']],
  ];

  it.each(readers)('%s on a missing state directory: exit 2, one line, nothing created', async (_n, args) => {
    const missing = join(work, `missing-${++counter}`, 'state');
    const out = await runCli([...args, '--state-dir', missing]);
    expect(out.code, out.stderr).toBe(2);
    expect(errorLines(out.stderr)).toEqual([
      `certvigil: no certvigil state at ${missing} (run \`certvigil monitor\` first)`,
    ]);
    expect(existsSync(join(missing, '..'))).toBe(false);
  });

  it.each(readers)('%s on an empty state directory: no database file created', async (_n, args) => {
    const empty = join(work, `empty-${++counter}`);
    await mkdir(empty, { mode: 0o700 });
    const out = await runCli([...args, '--state-dir', empty]);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/no certvigil state at/);
    expect(await readdir(empty)).toEqual([]);
  });

  it('certs list on a PostgreSQL database without the schema: exit 2, and no schema created', async () => {
    const database = await pg.createDatabase();
    const out = await runCli(['certs', 'list', '--database', database]);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/no certvigil state at postgres:\/\/.*\(run `certvigil monitor` first\)/);
    // A second read still finds nothing: the first one did not migrate.
    expect((await runCli(['certs', 'list', '--database', database])).code).toBe(2);
  });

  it('certs list reads an existing state (and only reads it)', async () => {
    const dir = await state();
    const before = (await readdir(dir)).sort();
    const out = await runCli(['certs', 'list', '--state-dir', dir, '--json']);
    expect(out.code, out.stderr).toBe(0);
    expect(jsonLines(out.stdout)).toHaveLength(2);
    // SQLite may add its -wal/-shm index files; never a new database or lock file.
    const after = (await readdir(dir)).sort();
    expect(after.filter((f) => !/-(wal|shm)$/.test(f))).toEqual(before.filter((f) => !/-(wal|shm)$/.test(f)));
  });
});

describe('certs authorize / unauthorize / notes (issue 12)', () => {
  it('a prefix that matches nothing is exit 2; a full hash that matches nothing is recorded and says so', async () => {
    const dir = await state();
    const prefix = await runCli(['certs', 'authorize', 'deadbeef00', '--state-dir', dir]);
    expect(prefix.code).toBe(2);
    expect(errorLines(prefix.stderr)).toEqual([
      'certvigil: no issuance matches deadbeef00: give all 64 digits to authorise a certificate or key not seen yet',
    ]);
    const future = sha256Hex('a key not seen yet');
    const full = await runCli(['certs', 'authorize', future, '--state-dir', dir]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/it matches no certificate or key seen so far/);
  });

  it('says what a hash matched: an issuance (by prefix), a key', async () => {
    const dir = await state();
    const byPrefix = await runCli(['certs', 'authorize', OURS.tbsSha256.slice(0, 12), '--state-dir', dir]);
    expect(byPrefix.code, byPrefix.stderr).toBe(0);
    expect(byPrefix.stdout).toBe(
      `authorized ${OURS.tbsSha256}: the issuance for www.example.com,example.com\n`,
    );
    const byKey = await runCli(['certs', 'authorize', EVIL.spkiSha256, '--state-dir', dir]);
    expect(byKey.stdout).toMatch(/: the key of 1 issuance \(evil\\u202Etset\.example\.com\)/);
  });

  it('--note is shown by certs list and certs show (human and JSON); unauthorize withdraws it', async () => {
    const dir = await state();
    const auth = await runCli([
      'certs',
      'authorize',
      OURS.tbsSha256,
      '--note',
      'ticket OPS-42',
      '--state-dir',
      dir,
    ]);
    expect(auth.code, auth.stderr).toBe(0);
    const list = await runCli(['certs', 'list', '--state-dir', dir]);
    expect(list.stdout).toMatch(/KNOWN .*www\.example\.com.*\(authorized\) note="ticket OPS-42"/);
    const [json] = jsonLines((await runCli(['certs', 'list', '--state-dir', dir, '--json'])).stdout).filter(
      (v) => v.tbsSha256 === OURS.tbsSha256,
    );
    expect(json).toMatchObject({
      known: true,
      knownBy: 'authorized',
      authorizations: [{ hash: OURS.tbsSha256, matches: 'tbs', note: 'ticket OPS-42' }],
    });
    const show = await runCli(['certs', 'show', OURS.tbsSha256.slice(0, 10), '--state-dir', dir]);
    expect(show.stdout).toMatch(/authorized by tbs hash [0-9a-f]{64} on .*: ticket OPS-42/);
    const showJson = jsonLines(
      (await runCli(['certs', 'show', OURS.tbsSha256, '--json', '--state-dir', dir])).stdout,
    );
    expect(showJson[0]?.authorizations).toEqual([expect.objectContaining({ note: 'ticket OPS-42' })]);

    const un = await runCli(['certs', 'unauthorize', OURS.tbsSha256.slice(0, 10), '--state-dir', dir]);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toBe(`unauthorized ${OURS.tbsSha256} (note was: ticket OPS-42)\n`);
    const [after] = jsonLines((await runCli(['certs', 'list', '--state-dir', dir, '--json'])).stdout).filter(
      (v) => v.tbsSha256 === OURS.tbsSha256,
    );
    expect(after).toMatchObject({ known: false, authorizations: [] });
    const again = await runCli(['certs', 'unauthorize', OURS.tbsSha256, '--state-dir', dir]);
    expect(again.code).toBe(2);
    expect(errorLines(again.stderr)).toEqual([`certvigil: no authorization matches ${OURS.tbsSha256}`]);
  });

  it('escapes outside text: human output shows escapes, JSON escapes but round-trips', async () => {
    const dir = await state();
    const human = await runCli(['certs', 'list', '--state-dir', dir]);
    // eslint-disable-next-line no-control-regex -- no raw control or bidi character reaches the terminal
    expect(human.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(human.stdout).toContain('evil\\u202Etset.example.com');
    expect(human.stdout).toContain('Bad \\x1B[2J CA');
    const json = await runCli(['certs', 'list', '--state-dir', dir, '--json']);
    expect(json.stdout).not.toMatch(/\u202e/);
    expect(jsonLines(json.stdout).find((v) => v.tbsSha256 === EVIL.tbsSha256)).toMatchObject({
      dnsNames: ['evil\u202etset.example.com'],
      issuer: 'CN=Bad \u001b[2J CA',
    });
  });

  it.each(['list', 'show', 'authorize', 'unauthorize'])(
    'certs %s --help states its exit statuses',
    async (cmd) => {
      const out = await runCli(['certs', cmd, '--help']);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/Exit status: 0 .*2 /s);
    },
  );
});
