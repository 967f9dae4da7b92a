/**
 * Issue 12 on the built CLI, against the local CT log: `monitor` (and `inventory scan`, `notify
 * test`) check every input before the state is opened — a usage error is exit 2, one line on
 * stderr, no stack trace, nothing created — a missing inventory is refused (`--once`) or alerted
 * (daemon), a CA:TRUE self-signed leaf counts as inventory, watch lists follow certspotter, and
 * intervals are bounded.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CLI, runCli, runCliWithStdin } from './cli-run.js';
import type { CliResult } from './cli-run.js';
import { buildScenario } from './monitor-scenario.js';
import type { Scenario } from './monitor-scenario.js';

const runFile = promisify(execFile);
const SECRET = 'Sup3r-Secret-pw';

let work: string;
let scenario: Scenario;
let server: CtLogServer;
let list: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-monitor-validation-'));
  scenario = await buildScenario(join(work, 'scenario'), { bulk: 0 });
  server = await startCtLogServer(scenario.log, { rfc6962Prefix: '/logs/s/' });
  list = join(work, 'loglist.json');
  await writeLogList(list, [{ server, api: 'rfc6962' }]);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

let n = 0;
/** A fresh directory for one case; `state` inside it must not appear after a usage error. */
async function caseDir(): Promise<{ dir: string; state: string }> {
  const dir = join(work, `case-${++n}`);
  await mkdir(dir);
  return { dir, state: join(dir, 'state') };
}

/** Exit 2, exactly one line `certvigil: …` on stderr, no stack, nothing created in `dir`. */
async function expectUsageError(
  out: CliResult,
  dir: string,
  before: string[],
  message: RegExp,
): Promise<void> {
  expect(out.code, out.stderr).toBe(2);
  const lines = out.stderr.split('\n').filter((l) => l !== '');
  expect(lines, out.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^certvigil: /);
  expect(lines[0]).toMatch(message);
  expect(out.stderr).not.toMatch(/\n\s+at /);
  expect((await readdir(dir)).sort()).toEqual(before);
}

const base = (state: string): string[] => [
  'monitor',
  '--once',
  '--log-list',
  list,
  '--state-dir',
  state,
  '--caa-resolver',
  'off',
];

describe('a missing inventory is not an empty one', () => {
  it('monitor --once --inventory /nonexistent: exit 2, one line, the state dir not created', async () => {
    const { dir, state } = await caseDir();
    const out = await runCli([
      ...base(state),
      '--watchlist',
      scenario.watchlist,
      '--inventory',
      join(dir, 'etc-letsencrypt'),
    ]);
    await expectUsageError(
      out,
      dir,
      [],
      /inventory path ".*etc-letsencrypt": no such file or directory \(ENOENT\)/,
    );
    expect(existsSync(state)).toBe(false);
  });

  it('inventory scan of a missing path: exit 2, nothing stored', async () => {
    const { dir, state } = await caseDir();
    const out = await runCli([
      'inventory',
      'scan',
      '--state-dir',
      state,
      '--inventory',
      '/nonexistent/letsencrypt',
    ]);
    await expectUsageError(
      out,
      dir,
      [],
      /inventory path "\/nonexistent\/letsencrypt": no such file or directory/,
    );
  });

  it('the daemon raises one health alert through the sinks and keeps running', async () => {
    const { dir, state } = await caseDir();
    const hookLog = join(dir, 'hook.log');
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `alerts:\n  exec: { command: 'echo "$EVENT $CERTVIGIL_EVENT_TYPE $CERTVIGIL_INVENTORY_PATH" >> ${hookLog}' }\n`,
    );
    const missing = join(dir, 'gone');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'monitor',
        '--interval',
        '1',
        '--log-list',
        list,
        '--watchlist',
        scenario.watchlist,
        '--state-dir',
        state,
        '--caa-resolver',
        'off',
        '--config',
        config,
        '--inventory',
        missing,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const cycles: string[] = [];
    createInterface({ input: child.stderr }).on('line', (l) => {
      if (l.startsWith('alerts:')) cycles.push(l);
    });
    for (let i = 0; i < 300 && cycles.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode).toBeNull(); // still running
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(cycles.length).toBeGreaterThanOrEqual(3);
    expect(cycles[0]).toMatch(/1 inventory path\(s\) unreadable/);
    const health = (await readFile(hookLog, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('inventory-health'));
    // Deduplicated: one alert per path and day, however many cycles ran.
    expect(health).toEqual([`error inventory-health ${missing}`]);
  }, 60_000);
});

describe('a CA:TRUE self-signed leaf (openssl req -x509) is an inventory certificate', () => {
  it.each(['pem', 'certbot'] as const)('in a %s layout', async (layout) => {
    const { dir, state } = await caseDir();
    const key = join(dir, 'self.key');
    const pem = join(dir, 'self.pem');
    await runFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', pem, '-days', '30', '-subj', '/CN=self.example.test']); // prettier-ignore
    expect((await runFile('openssl', ['x509', '-in', pem, '-noout', '-text'])).stdout).toMatch(/CA:TRUE/);
    const cert = await readFile(pem, 'utf8');
    const inv = join(dir, 'inv');
    if (layout === 'pem') {
      await mkdir(inv);
      await writeFile(join(inv, 'self.example.test.crt'), cert);
    } else {
      await mkdir(join(inv, 'archive/self.example.test'), { recursive: true });
      await mkdir(join(inv, 'live/self.example.test'), { recursive: true });
      await writeFile(join(inv, 'archive/self.example.test/cert1.pem'), cert);
      await writeFile(join(inv, 'archive/self.example.test/fullchain1.pem'), cert);
      await symlink(
        '../../archive/self.example.test/cert1.pem',
        join(inv, 'live/self.example.test/cert.pem'),
      );
    }
    const out = await runCli([
      'inventory',
      'scan',
      '--state-dir',
      state,
      '--inventory',
      inv,
      '--log-level',
      'debug',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^1 certificates/m);
    expect(out.stdout).toContain('self.example.test');
  });

  it('debug logs say why a file or certificate was skipped', async () => {
    const { dir, state } = await caseDir();
    const inv = join(dir, 'inv');
    await mkdir(inv);
    const b64 = scenario.ca.certificate.toString('base64').replace(/.{64}/g, '$&\n');
    await writeFile(
      join(inv, 'chain.pem'),
      `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    );
    await writeFile(join(inv, 'notes.txt'), 'hello');
    const out = await runCli([
      'inventory',
      'scan',
      '--state-dir',
      state,
      '--inventory',
      inv,
      '--log-level',
      'debug',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(
      /chain\.pem.*in a chain file: an issuer|in a chain file: an issuer.*chain\.pem/,
    );
    expect(out.stderr).toMatch(
      /notes\.txt.*not a certificate file name|not a certificate file name.*notes\.txt/,
    );
  });
});

describe('watch lists on the command line', () => {
  it.each([
    ['example..test', /wl:2: "example\.\.test" has an empty label/],
    ['https://www.example.test/', /wl:2: .* is a URL, not a name: write www\.example\.test$/],
    ['*.foo.test', /wl:2: a wildcard is not a watch-list entry: write \.foo\.test/],
    ['exa mple.test', /wl:2: unexpected "mple\.test"/],
    [`${'a'.repeat(64)}.test`, /wl:2: .* label of 64 characters/],
    ['evil\u001b[2Jname.test', /wl:2: control or invisible character in "evil\\x1B\[2Jname\.test"/],
  ])('%j → exit 2 with FILE:LINE and nothing created', async (line, message) => {
    const { dir, state } = await caseDir();
    const wl = join(dir, 'wl');
    await writeFile(wl, `.example.test\n${line}\n`);
    const out = await runCli([...base(state), '--watchlist', wl]);
    await expectUsageError(out, dir, ['wl'], message);
    expect(out.stderr).not.toContain('\u001b');
  });

  it('binary content is refused as a whole, never echoed', async () => {
    const { dir, state } = await caseDir();
    const wl = join(dir, 'wl');
    await writeFile(wl, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]));
    const out = await runCli([...base(state), '--watchlist', wl]);
    await expectUsageError(out, dir, ['wl'], /wl: binary content/);
  });

  it('certspotter forms work: ., valid_at, trailing dot, comments; - reads stdin', async () => {
    const { dir, state } = await caseDir();
    const out = await runCliWithStdin(
      [...base(state), '--watchlist', '-'],
      '# certspotter watch list\n\nwww.example.test. valid_at:2024-01-01\n.\n',
    );
    expect(out.code, out.stderr).toBe(0);
    // `.` watches every name: the noise certificate www.other.test is recorded too.
    const certs = await runCli(['certs', 'list', '--state-dir', state, '--json']);
    expect(certs.stdout).toContain('www.other.test');
    expect(existsSync(join(dir, '-'))).toBe(false);
  });

  it('stdin errors name (stdin):LINE', async () => {
    const { dir, state } = await caseDir();
    const out = await runCliWithStdin([...base(state), '--watchlist', '-'], 'ok.test\n*.x.test\n');
    await expectUsageError(out, dir, [], /^certvigil: \(stdin\):2: a wildcard/);
  });
});

describe('durations and other flags are bounded and checked first', () => {
  it.each([
    [['--interval', '2147484'], /--interval must be between 1s and/], // past 2^31 ms
    [['--interval', '0'], /--interval must be between/],
    [['--interval', '-5'], /--interval must be a duration/],
    [['--interval', '5 fortnights'], /--interval must be a duration/],
    [
      ['--log', 'ftp://log.test/'],
      /--log \(or logs: in the config\) "ftp:\/\/log\.test\/" is not an http\(s\) URL/,
    ],
    [
      ['--database', `mysql://u:${SECRET}@db.test/x`],
      /--database \(or database: in the config\) must be a postgres:\/\//,
    ],
    [['--state-dir', ''], /--state-dir must not be empty/],
  ])('%j → exit 2, nothing created', async (flags, message) => {
    const { dir, state } = await caseDir();
    const out = await runCli([
      'monitor',
      '--log-list',
      list,
      '--state-dir',
      state,
      '--watchlist',
      scenario.watchlist,
      ...flags,
    ]);
    await expectUsageError(out, dir, [], message);
    expect(out.stderr).not.toContain(SECRET);
  });

  it('a state dir that is a file is a usage error', async () => {
    const { dir } = await caseDir();
    await writeFile(join(dir, 'file'), 'x');
    const out = await runCli([...base(join(dir, 'file')), '--watchlist', scenario.watchlist]);
    await expectUsageError(out, dir, ['file'], /state directory ".*file" exists and is not a directory/);
  });

  it('the largest interval does not spin the daemon (one cycle in 3 s)', async () => {
    const { state } = await caseDir();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'monitor',
        '--interval',
        '2147483',
        '--log-list',
        list,
        '--watchlist',
        scenario.watchlist,
        '--state-dir',
        state,
        '--caa-resolver',
        'off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let cycles = 0;
    createInterface({ input: child.stderr }).on('line', (l) => {
      if (l.startsWith('alerts:')) cycles++;
    });
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => child.once('exit', r))).toBe(0);
    expect(cycles).toBe(1);
  }, 30_000);
});

describe('the config file', () => {
  it('a YAML error reports FILE:LINE:COL and never the source line with the password', async () => {
    const { dir, state } = await caseDir();
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `alerts:\n  email:\n    smtp: { host: mx.test, port: 25, user: u, password: "${SECRET}\n    from: a@b.test\n    to: [c@d.test]\n`,
    );
    const out = await runCli([...base(state), '--watchlist', scenario.watchlist, '--config', config]);
    await expectUsageError(out, dir, ['config.yaml'], /config\.yaml:\d+:\d+: /);
    expect(out.stderr).not.toContain(SECRET);
  });

  it('a schema error names the key, never the value', async () => {
    const { dir, state } = await caseDir();
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `alerts:\n  email:\n    smtp: { host: mx.test, port: 25, password: 1234567 }\n    from: a@b.test\n    to: c@d.test\n`,
    );
    const out = await runCli([...base(state), '--watchlist', scenario.watchlist, '--config', config]);
    await expectUsageError(out, dir, ['config.yaml'], /alerts\.email\.smtp\.password: expected string/);
    expect(out.stderr).not.toContain('1234567');
  });
});

describe('--help states the exit statuses', () => {
  it.each([[['monitor']], [['inventory', 'scan']], [['notify', 'test']]])('%j', async (cmd) => {
    const out = await runCli([...cmd, '--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Exit status/);
  });
});

describe('a certificate whose names carry ESC, U+202E and CRLF, end to end', () => {
  it('reaches the hook and stdout only as visible escapes', async () => {
    const { dir, state } = await caseDir();
    const evil = await buildScenario(join(dir, 'scenario'), { bulk: 0 });
    // IA5String bytes as given (latin1): ESC and CR/LF raw; U+202E as its UTF-8 bytes.
    const rloUtf8 = Buffer.from('\u202E', 'utf8').toString('latin1');
    evil.log.addCertificate(
      evil.ca.issue({
        dnsNames: [
          'evil\u001b[2J.example.test',
          'x.example.test\r\nBcc: a@b.test',
          `rlo${rloUtf8}.example.test`,
        ],
        commonName: 'evil\u001b]0;title\u0007.example.test',
      }),
    );
    evil.log.publish();
    const evilServer = await startCtLogServer(evil.log, { rfc6962Prefix: '/logs/s/' });
    try {
      const evilList = join(dir, 'loglist.json');
      await writeLogList(evilList, [{ server: evilServer, api: 'rfc6962' }]);
      const hookOut = join(dir, 'hook');
      await mkdir(hookOut);
      const config = join(dir, 'config.yaml');
      await writeFile(
        config,
        'caaResolver: false\nalerts:\n  stdout: true\n' +
          `  exec: { command: 'env >> ${hookOut}/env; cat "$TEXT_FILENAME" "$CERTVIGIL_EVENT_FILENAME" >> ${hookOut}/files' }\n`,
      );
      const out = await runCli([
        'monitor',
        '--once',
        '--log-list',
        evilList,
        '--watchlist',
        evil.watchlist,
        '--state-dir',
        state,
        '--config',
        config,
      ]);
      expect(out.code, out.stderr).toBe(0);
      const stdoutAlerts = out.stdout.split('\n').filter((l) => l !== '');
      expect(stdoutAlerts.length).toBeGreaterThan(0);
      const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/; // eslint-disable-line no-control-regex
      expect(out.stdout).not.toMatch(raw);
      expect(out.stderr).not.toMatch(raw);
      const env = await readFile(join(hookOut, 'env'), 'utf8');
      expect(env).not.toMatch(/^Bcc:/m);
      for (const line of env
        .split('\n')
        .filter((l) => /^(SUMMARY|SUBJECT_DN|ISSUER_DN|CERTVIGIL_|PARSE_ERROR)/.test(l)))
        expect(line).not.toMatch(raw);
      expect(await readFile(join(hookOut, 'files'), 'utf8')).not.toMatch(raw);
      // The names are there, escaped (or the entry is reported as malformed, also escaped).
      expect(out.stdout).toMatch(/\\\\x1B\[2J|malformed/);
    } finally {
      await evilServer.close();
    }
  }, 60_000);
});

describe('the daemon keeps the last good watch list when an edit breaks it', () => {
  it('logs the FILE:LINE error and keeps running', async () => {
    const { dir, state } = await caseDir();
    const wl = join(dir, 'wl');
    await writeFile(wl, '.example.test\n');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'monitor',
        '--interval',
        '1',
        '--log-list',
        list,
        '--watchlist',
        wl,
        '--state-dir',
        state,
        '--caa-resolver',
        'off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const lines: string[] = [];
    createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
    const cycles = (): number => lines.filter((l) => l.startsWith('alerts:')).length;
    for (let i = 0; i < 200 && cycles() < 1; i++) await new Promise((r) => setTimeout(r, 100));
    await writeFile(wl, '.example.test\nexample..test\n');
    const before = cycles();
    for (let i = 0; i < 200 && cycles() < before + 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => child.once('exit', r))).toBe(0);
    expect(lines.join('\n')).toMatch(
      /watch list not reloaded, keeping the last one: .*wl:2: .*example\.\.test.* has an empty label/,
    );
  }, 60_000);
});
