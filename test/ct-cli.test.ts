/**
 * `certvigil ct entries` and `certvigil ct audit` against the local CT log fixture (RFC 6962 and
 * static-ct-api served from the same tree), with and without injected faults.
 */
import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendBulk, startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { jsonLines, runCli } from './cli-run.js';

let work: string;
let ca: TestCa;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-ct-cli-'));
  ca = await TestCa.create();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const servers: CtLogServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let counter = 0;
/** A fresh log: two named certificates, a precert + final pair, a malformed entry, then bulk. */
async function freshLog(
  bulk = 600,
): Promise<{ log: TestLog; server: CtLogServer; list: string; stateDir: string }> {
  const log = new TestLog({ name: `certvigil test log ${++counter}`, staticCtApi: true });
  log.addCertificate(ca.issue({ dnsNames: ['www.example.test', 'example.test'] }));
  log.addPrecertificate(ca, { dnsNames: ['pre.example.test'], alsoLogFinal: true });
  log.addRaw(Buffer.from('not a certificate at all'));
  appendBulk(log, ca, { count: bulk });
  log.publish();
  const server = await startCtLogServer(log, { rfc6962Prefix: '/logs/test/', staticPrefix: '/static/' });
  servers.push(server);
  const list = join(work, `loglist-${counter}.json`);
  await writeLogList(list, [
    { server, api: 'rfc6962' },
    { server, api: 'static' },
  ]);
  return { log, server, list, stateDir: join(work, `state-${counter}`) };
}

/** stderr without the JSON log lines (the fixture list warns that one log is listed twice). */
const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"level"'));

const audit = (list: string, url: string, stateDir: string, ...extra: string[]) =>
  runCli(['ct', 'audit', '--log-list', list, '--log', url, '--state-dir', stateDir, '--json', ...extra]);

describe('ct entries', () => {
  it('prints the same summaries from both log kinds, with malformed entries recorded by index', async () => {
    const { server, list } = await freshLog(300);
    const args = (url: string) => [
      'ct',
      'entries',
      '--log-list',
      list,
      '--log',
      url,
      '--start',
      '0',
      '--end',
      '303',
      '--json',
    ];
    const rfc = await runCli(args(server.rfc6962Url));
    const tiled = await runCli(args(server.staticUrl));
    expect(rfc.code, rfc.stderr).toBe(0);
    expect(tiled.code, tiled.stderr).toBe(0);
    const a = jsonLines(rfc.stdout);
    const b = jsonLines(tiled.stdout);
    expect(a).toHaveLength(304);
    expect(a.map((e) => e.index)).toEqual([...Array(304).keys()]);
    expect(b).toEqual(a);
    expect(a[0]).toMatchObject({ index: 0, type: 'x509', dnsNames: ['www.example.test', 'example.test'] });
    for (const key of ['tbsSha256', 'issuer', 'notBefore', 'notAfter']) expect(a[0]).toHaveProperty(key);
    // The precertificate and its final certificate are one issuance: the same TBS hash.
    expect(a[1]).toMatchObject({ type: 'precert', dnsNames: ['pre.example.test'] });
    expect(a[2]).toMatchObject({ type: 'x509', tbsSha256: a[1]?.tbsSha256 });
    expect(a[3]).toMatchObject({ index: 3, malformed: true });
    expect(String(a[3]?.error)).toMatch(/./);
  });

  it('reads a sub-range in the middle of a tile; without --end, to the end of the tree', async () => {
    const { server, list } = await freshLog(600);
    for (const url of [server.rfc6962Url, server.staticUrl]) {
      const out = await runCli([
        'ct',
        'entries',
        '--log-list',
        list,
        '--log',
        url,
        '--start',
        '250',
        '--json',
      ]);
      expect(out.code, out.stderr).toBe(0);
      const lines = jsonLines(out.stdout);
      expect(lines.map((l) => l.index)).toEqual([...Array(354).keys()].map((i) => i + 250));
    }
  });

  it.each([
    [
      '--end past the tree',
      ['--start', '250', '--end', '10000'],
      /--end 10000 is past the end of the log: it has 604 entries \(0\.\.603\)/,
    ],
    [
      '--start past the tree',
      ['--start', '604'],
      /--start 604 is past the end of the log: it has 604 entries/,
    ],
    ['--start and --end past the tree', ['--start', '5000', '--end', '6000'], /it has 604 entries/],
  ])(
    '%s: exit 2, one line naming the tree size, nothing on stdout (issue 12)',
    async (_name, range, message) => {
      const { server, list } = await freshLog(600);
      for (const url of [server.rfc6962Url, server.staticUrl]) {
        const out = await runCli(['ct', 'entries', '--log-list', list, '--log', url, ...range]);
        expect(out.code, out.stderr).toBe(2);
        expect(out.stderr).toMatch(message);
        expect(errorLines(out.stderr)).toHaveLength(1);
        expect(out.stdout).toBe('');
      }
    },
  );

  it.each([
    ['--end', '99999999999999999999'],
    ['--end', '-5'],
    ['--end', '1.5'],
    ['--end', '1e3'],
    ['--end', '0x10'],
    ['--end', ''],
    ['--start', '-1'],
    ['--start', '9007199254740992'],
    ['--start', 'abc'],
  ])('%s %j: the same one-line usage error, exit 2, before any request (issue 12)', async (flag, value) => {
    const { server, list } = await freshLog(0);
    const args = { '--start': '0', '--end': '1', [flag]: value } as Record<string, string>;
    const out = await runCli([
      'ct',
      'entries',
      '--log-list',
      list,
      '--log',
      server.rfc6962Url,
      '--start',
      String(args['--start']),
      '--end',
      String(args['--end']),
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      new RegExp(`^certvigil: ${flag} must be an entry index, a whole number from 0 to 9007199254740991`),
    );
    expect(errorLines(out.stderr)).toHaveLength(1);
    expect(server.count('get-sth')).toBe(0);
  });

  it('rejects bad arguments with exit 2', async () => {
    const { server, list } = await freshLog(0);
    const backwards = await runCli([
      'ct',
      'entries',
      '--log-list',
      list,
      '--log',
      server.rfc6962Url,
      '--start',
      '5',
      '--end',
      '1',
    ]);
    expect(backwards.code).toBe(2);
    const unknown = await runCli([
      'ct',
      'entries',
      '--log-list',
      list,
      '--log',
      'http://127.0.0.1:1/nope/',
      '--start',
      '0',
      '--end',
      '1',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no log with URL/);
  });
});

describe('ct audit', () => {
  it('verifies both kinds, then checks consistency with the heads it saw before', async () => {
    const { log, server, list, stateDir } = await freshLog(700);
    for (const url of [server.rfc6962Url, server.staticUrl]) {
      const out = await audit(list, url, stateDir);
      expect(out.code, out.stderr).toBe(0);
      expect(jsonLines(out.stdout)[0]).toMatchObject({
        status: 'consistent',
        entriesVerified: 704,
        findings: [],
        // The entry `ct entries` prints as malformed (#3) is counted by the audit too (issue 12).
        malformedCount: 1,
        malformedEntries: [{ index: 3 }],
      });
    }
    // The log grows; the next audit proves the old head is a prefix of the new tree.
    appendBulk(log, ca, { count: 300 });
    log.publish();
    for (const url of [server.rfc6962Url, server.staticUrl]) {
      const out = await audit(list, url, stateDir);
      expect(out.code, out.stderr).toBe(0);
      const r = jsonLines(out.stdout)[0];
      expect(r).toMatchObject({ status: 'consistent', entriesVerified: 1004 });
      expect(Number(r?.consistentWithPreviousHeads)).toBeGreaterThanOrEqual(1);
    }
  });

  it('survives 429 with Retry-After, 5xx and short get-entries answers without missing an entry', async () => {
    const { server, list, stateDir } = await freshLog(900);
    server.faults.next429(2, 1, 'get-entries');
    server.faults.next5xx(2, 503, 'get-entries');
    server.faults.getEntriesLimit = 7;
    const out = await audit(list, server.rfc6962Url, stateDir, '--concurrency', '3');
    expect(out.code, out.stderr).toBe(0);
    // Verified against the signed root: an entry missed or repeated would change the root.
    expect(jsonLines(out.stdout)[0]).toMatchObject({ status: 'consistent', entriesVerified: 904 });
    expect(server.count('get-entries', 429)).toBe(2);
    expect(server.count('get-entries', 503)).toBe(2);
  });

  it('survives faults on data tiles of a static-ct-api log', async () => {
    const { server, list, stateDir } = await freshLog(900);
    server.faults.next429(1, 1, 'data-tile');
    server.faults.next5xx(1, 500, 'data-tile');
    const out = await audit(list, server.staticUrl, stateDir);
    expect(out.code, out.stderr).toBe(0);
    expect(jsonLines(out.stdout)[0]).toMatchObject({ status: 'consistent', entriesVerified: 904 });
  });

  it.each(['rfc6962', 'static'] as const)(
    'exits 1 with the evidence when the %s tree head signature is bad',
    async (kind) => {
      const { server, list, stateDir } = await freshLog(10);
      server.faults.badSthSignature = true;
      const out = await audit(list, kind === 'rfc6962' ? server.rfc6962Url : server.staticUrl, stateDir);
      expect(out.code, out.stderr).toBe(1);
      const r = jsonLines(out.stdout)[0];
      expect(r).toMatchObject({ status: 'misbehaving' });
      expect((r?.findings as { kind: string }[])[0]?.kind).toBe('bad-signature');
      expect(existsSync(String(r?.evidenceFile))).toBe(true);
    },
  );

  it.each(['rfc6962', 'static'] as const)(
    'exits 1 on a forked %s head of the same size, keeping both signed heads',
    async (kind) => {
      const { log, server, list, stateDir } = await freshLog(50);
      const url = kind === 'rfc6962' ? server.rfc6962Url : server.staticUrl;
      expect((await audit(list, url, stateDir)).code).toBe(0);
      server.faults.sthOverride = log.forkedSth('same-size').sth;
      const out = await audit(list, url, stateDir);
      expect(out.code, out.stderr).toBe(1);
      const findings = jsonLines(out.stdout)[0]?.findings as { kind: string; signedHeads: unknown[] }[];
      const fork = findings.find((f) => f.kind === 'inconsistent-heads');
      expect(fork?.signedHeads).toHaveLength(2);
      // The forked head's root does not match the entries the log serves either.
      expect(findings.map((f) => f.kind)).toContain('root-mismatch');
    },
  );

  it('exits 1 on a split view: a later tree that does not extend the head seen before', async () => {
    const { log, server, list, stateDir } = await freshLog(300);
    expect((await audit(list, server.rfc6962Url, stateDir)).code).toBe(0);
    const fork = log.fork(log.size - 20);
    fork.addRaw(Buffer.from('split view entry'));
    appendBulk(fork, ca, { count: 40 });
    fork.publish();
    server.serveLog(fork);
    const out = await audit(list, server.rfc6962Url, stateDir);
    expect(out.code, out.stderr).toBe(1);
    const r = jsonLines(out.stdout)[0];
    expect((r?.findings as { kind: string }[]).map((f) => f.kind)).toEqual(['inconsistent-heads']);
  });

  it('exits 2 when the log cannot be read', async () => {
    const { server, list, stateDir } = await freshLog(0);
    await server.close();
    const out = await audit(list, server.rfc6962Url, stateDir, '--timeout', '1000');
    expect(out.code).toBe(2);
    expect(jsonLines(out.stdout)[0]).toMatchObject({ status: 'unverifiable' });
  });

  it('exits 2, not 1, when static data tiles arrive truncated (unsigned bytes prove nothing)', async () => {
    const { server, list, stateDir } = await freshLog(300);
    server.faults.tileTruncateBytes = 5;
    const out = await audit(list, server.staticUrl, stateDir);
    expect(out.code, out.stdout).toBe(2);
  });
});

describe('ct flags and state directory (issue 12)', () => {
  const base = (list: string, url: string): string[] => ['--log-list', list, '--log', url];

  it('--help of both commands states their exit statuses', async () => {
    for (const cmd of ['entries', 'audit']) {
      const out = await runCli(['ct', cmd, '--help']);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/Exit status: 0 .*, 1 .*, 2 /s);
    }
  });

  it.each([
    ['--timeout 0', ['--timeout', '0'], /--timeout must be between 100ms and 10m/],
    ['--timeout huge', ['--timeout', '99999999999999'], /--timeout must be between/],
    ['--timeout words', ['--timeout', 'soon'], /--timeout must be a duration/],
    ['--concurrency 0', ['--concurrency', '0'], /--concurrency must be a positive integer/],
    ['--concurrency huge', ['--concurrency', '100000'], /--concurrency must be at most 64/],
    ['--concurrency -1', ['--concurrency', '-1'], /--concurrency must be a positive integer/],
  ])('%s: one-line usage error, exit 2, no state directory created', async (_name, extra, message) => {
    const { server, list, stateDir } = await freshLog(0);
    for (const cmd of ['entries', 'audit']) {
      const args =
        cmd === 'entries'
          ? ['ct', 'entries', ...base(list, server.rfc6962Url), '--start', '0', ...extra]
          : ['ct', 'audit', ...base(list, server.rfc6962Url), '--state-dir', stateDir, ...extra];
      const out = await runCli(args);
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(errorLines(out.stderr)).toHaveLength(1);
    }
    expect(existsSync(stateDir)).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  it('--log must be an http(s) URL without credentials; --log-list file problems are one line', async () => {
    const { server, list, stateDir } = await freshLog(0);
    const empty = join(work, 'empty.json');
    const binary = join(work, 'binary.json');
    await writeFile(empty, '');
    await writeFile(binary, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x9b]));
    const cases: [string[], RegExp][] = [
      [base(list, 'ftp://127.0.0.1/log/'), /--log must be an http:\/\/ or https:\/\/ URL/],
      [base(list, 'not a url'), /--log must be an http:\/\/ or https:\/\/ URL/],
      [base(list, 'http://user:pw@127.0.0.1/log/'), /--log must not carry a user name or password/],
      [base('https://u:p@127.0.0.1:1/list.json', server.rfc6962Url), /--log-list must not carry/],
      [
        base(join(work, 'missing.json'), server.rfc6962Url),
        /cannot read log list .*missing\.json: no such file/,
      ],
      [base(empty, server.rfc6962Url), /cannot read log list .*empty\.json: the file is empty/],
      [base(work, server.rfc6962Url), /cannot read log list .*: it is a directory/],
      [base(binary, server.rfc6962Url), /binary\.json: the log list is not JSON/],
    ];
    for (const [args, message] of cases) {
      const out = await runCli(['ct', 'audit', ...args, '--state-dir', stateDir]);
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(errorLines(out.stderr)).toHaveLength(1);
      // eslint-disable-next-line no-control-regex -- no raw control byte reaches the terminal
      expect(out.stderr.trim()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(out.stderr).not.toMatch(/pw@|u:p@|\n\s+at /);
    }
    expect(existsSync(stateDir)).toBe(false);
  });

  it('ct audit creates its state directory 0700 and its files 0600; its text counts malformed entries', async () => {
    const { server, list, stateDir } = await freshLog(10);
    const out = await audit(list, server.rfc6962Url, stateDir);
    expect(out.code, out.stderr).toBe(0);
    const text = await runCli(['ct', 'audit', ...base(list, server.staticUrl), '--state-dir', stateDir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^OK .*; 1 malformed entry; /);
    expect(text.stdout).toMatch(/\n {2}malformed entry #3: /);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const files = await readdir(stateDir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(statSync(join(stateDir, f)).mode & 0o777).toBe(0o600);
  });

  it.each([
    [
      'group-writable',
      async (dir: string) => chmod(dir, 0o770),
      /writable by its group \(mode 0770\): run `chmod 700 /,
    ],
    [
      'world-writable',
      async (dir: string) => chmod(dir, 0o777),
      /writable by everyone \(mode 0777\): run `chmod 700 /,
    ],
    [
      'owned by someone else',
      async (dir: string) => chown(dir, 65534, 65534),
      /is owned by uid 65534, not by you/,
    ],
  ])(
    'ct audit refuses a %s state directory: exit 2, one line, before any request',
    async (_name, spoil, message) => {
      const { server, list, stateDir } = await freshLog(10);
      await mkdir(stateDir, { mode: 0o700 });
      await spoil(stateDir);
      const out = await audit(list, server.rfc6962Url, stateDir);
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(errorLines(out.stderr)).toHaveLength(1);
      expect(server.requests).toHaveLength(0);
      expect(await readdir(stateDir)).toEqual([]);
    },
  );

  it('ct audit never follows a symlink for its tree head file', async () => {
    const { server, list, stateDir } = await freshLog(10);
    expect((await audit(list, server.rfc6962Url, stateDir)).code).toBe(0);
    const [heads] = (await readdir(stateDir)).filter((f) => f.startsWith('log-'));
    const victim = join(work, 'victim.txt');
    await writeFile(victim, 'precious');
    await rm(join(stateDir, String(heads)));
    await symlink(victim, join(stateDir, String(heads)));
    const out = await audit(list, server.rfc6962Url, stateDir);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/is a symbolic link: certvigil never follows links/);
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });
});
