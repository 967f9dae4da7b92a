/**
 * Issue 12, "Bad input gets a clear error": every command of `check`, `jarm` and `mitm` × bad
 * targets, ports, numbers, durations, pins and files. Each run must end with exactly one line —
 * `certvigil: …` on stderr and exit 2, or under `check` one `CERTVIGIL UNKNOWN - …` line on stdout,
 * nothing on stderr and exit 3 — with no stack trace, no raw control characters, and nothing
 * created: each row runs in a fresh directory that is also HOME, the cache and the state home, and
 * afterwards holds exactly the fixture files it started with. No row reaches the network.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSafeText } from '../src/sanitize.js';
import { CLI } from './cli-run.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

/** A fresh directory with the bad files every row may name. */
async function sandbox(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'certvigil-cli-errors-'));
  roots.push(root);
  await mkdir(join(root, 'dir'));
  await writeFile(join(root, 'empty'), '');
  await writeFile(join(root, 'binary'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0xff, 0xfe]));
  await writeFile(join(root, 'notpem'), 'hello, not a certificate\n');
  // A YAML error next to a secret: the message must not quote the source line.
  await writeFile(join(root, 'badyaml'), 'endpoints:\n  - target: a\n smtpPassword: "hunter2-secret\n');
  const entry = (target: string, extra = ''): string => `endpoints:\n  - target: "${target}"${extra}\n`;
  await writeFile(join(root, 'bracket.yaml'), entry('[::1'));
  await writeFile(join(root, 'port.yaml'), entry('host.test:99999'));
  await writeFile(join(root, 'days.yaml'), entry('host.test', '\n    warning: 1e9'));
  await writeFile(join(root, 'pin.yaml'), entry('host.test', '\n    pins: [abc]'));
  await writeFile(join(root, 'sni.yaml'), entry('host.test', '\n    sni: "1.2.3.4"'));
  await writeFile(join(root, 'timeout.yaml'), entry('host.test', '\n    timeout: -1'));
  await writeFile(join(root, 'unknownkey.yaml'), entry('host.test', '\n    bogus: 1'));
  await writeFile(join(root, 'second.yaml'), `${entry('ok.test')}  - target: "a b:443"\n`);
  return root;
}

async function listing(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true }))
    out.push(relative(root, join(e.parentPath, e.name)));
  return out.sort();
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: cwd,
          XDG_CACHE_HOME: join(cwd, '.cache'),
          XDG_STATE_HOME: join(cwd, '.state'),
          XDG_CONFIG_HOME: join(cwd, '.config'),
          NO_COLOR: '1',
          ...env,
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const ESC = '\u001b';
const LONG_LABEL = `${'a'.repeat(64)}.test`;
const SHA1_B64 = 'L9ThxnotKPzthJ7hu3bnORuT6xI=';

const badTargets = [
  '[::1',
  'host.test:99999',
  'host.test:0',
  'host.test:',
  ':443',
  '',
  'a b:443',
  `ho${ESC}[2Jst`,
  LONG_LABEL,
  'http://host.test/',
];

/** `check …`: exit 3 and one UNKNOWN line. [args, what the line must say, env?] */
const pluginRows: [string[], RegExp, NodeJS.ProcessEnv?][] = [
  ...badTargets.map((t): [string[], RegExp] => [['check', 'endpoint', t], /bad target|empty/]),
  [['check', 'endpoint', '-H', '[::1'], /bad target/],
  [['check', 'endpoint', 'a.test', '-H', 'b.test'], /not both/],
  [['check', 'endpoint'], /give HOST/],
  [['check', 'endpoint', 'a.test', '-p', '0'], /-p\/--port/],
  [['check', 'endpoint', 'a.test', '-p', '70000'], /-p\/--port must be at most 65535/],
  [['check', 'endpoint', 'a.test', '-t', '-5'], /-t\/--timeout must be a duration/],
  [['check', 'endpoint', 'a.test', '-t', '0'], /-t\/--timeout must be between/],
  [['check', 'endpoint', 'a.test', '-t', '1e9'], /-t\/--timeout must be a duration/],
  [['check', 'endpoint', 'a.test', '-t', '99999999'], /-t\/--timeout must be between 100ms and 1h/],
  [['check', 'endpoint', 'a.test', '-w', '-1'], /-w\/--warning must be a number of days from 0 to 3650/],
  [['check', 'endpoint', 'a.test', '-w', '99999'], /-w\/--warning/],
  [['check', 'endpoint', 'a.test', '-c', 'abc'], /-c\/--critical/],
  [['check', 'endpoint', 'a.test', '-w', '10', '-c', '30'], /-c \(30\) must not exceed -w \(10\)/],
  [['check', 'endpoint', 'a.test', '--pin', 'abc'], /--pin must be the SHA-256/],
  [['check', 'endpoint', 'a.test', '--pin', SHA1_B64], /--pin must be the SHA-256/],
  [['check', 'endpoint', 'a.test', '--sni', '1.2.3.4'], /--sni.*RFC 6066/],
  [['check', 'endpoint', 'a.test', '--sni', 'a b'], /--sni/],
  [['check', 'endpoint', 'a.test', '--sni', ''], /--sni "": empty/],
  [['check', 'endpoint', 'a.test', '--expect-issuer', ' '], /--expect-issuer is empty/],
  [['check', 'endpoint', 'a.test', '--caa-identifier', 'a b'], /--caa-identifier/],
  [['check', 'endpoint', 'a.test', '--crtsh', ''], /--crtsh must be an http\(s\) URL/],
  [['check', 'endpoint', 'a.test', '--connect-to', '[::1'], /--connect-to/],
  [['check', 'endpoint', 'a.test', '--connect-to', 'h.test:443'], /--connect-to.*no port/],
  [['check', 'endpoint', 'a.test', '--proxy', 'https://127.0.0.1:3128'], /--proxy supports http:\/\//],
  // The password in a bad proxy URL is masked (the exact line leaves no room for it).
  [
    ['check', 'endpoint', 'a.test', '--proxy', 'http://u:pw-s3cret@127.0.0.1:3128/x'],
    /^CERTVIGIL UNKNOWN - --proxy must not have a path, query or fragment \(got "http:\/\/\*\*\*@127\.0\.0\.1:3128\/x"\)$/,
  ],
  [
    ['check', 'endpoint', 'a.test'],
    /^CERTVIGIL UNKNOWN - https_proxy supports/,
    { https_proxy: 'ftp://x:1' },
  ],
  [
    ['check', 'endpoint', 'a.test', '--starttls', 'smtp'],
    /ALL_PROXY must not have a path/,
    { ALL_PROXY: 'http://x:1/p' },
  ],
  [['check', 'endpoint', 'a.test', '--starttls', 'gopher'], /--starttls must be one of/],
  [['check', 'endpoint', 'a.test', '--ct-policy', 'firefox'], /--ct-policy/],
  [['check', 'endpoint', 'a.test', '--min-scts', '-1'], /--min-scts/],
  [['check', 'endpoint', 'a.test', '--min-scts', '1000'], /--min-scts must be at most 100/],
  [['check', 'endpoint', 'a.test', '--min-rsa-bits', '0'], /--min-rsa-bits/],
  [['check', 'endpoint', 'a.test', '--min-rsa-bits', '999999'], /--min-rsa-bits must be at most/],
  [['check', 'endpoint', 'a.test', '--resolver', 'resolver.test'], /resolver must be an IP address/],
  [['check', 'endpoint', 'a.test', '--crtsh', 'ftp://x'], /--crtsh must be an http\(s\) URL/],
  [['check', 'endpoint', 'a.test', '-4', '-6'], /exclude each other/],
  [['check', 'endpoint', 'a.test', '--ca-file', 'missing'], /cannot read --ca-file missing: no such file/],
  [['check', 'endpoint', 'a.test', '--ca-file', 'empty'], /--ca-file empty is empty/],
  [['check', 'endpoint', 'a.test', '--ca-file', 'dir'], /--ca-file dir is a directory/],
  [['check', 'endpoint', 'a.test', '--ca-file', 'binary'], /--ca-file binary is not a text file/],
  [['check', 'endpoint', 'a.test', '--ca-file', 'notpem'], /holds no PEM certificate/],
  [['check', 'endpoint', 'a.test', '--log-list', 'missing'], /--log-list missing/],
  [['check', 'endpoint', 'a.test', '--log-list', 'empty'], /--log-list empty is empty/],
  [['check', 'endpoint', 'a.test', '--log-list', 'dir'], /--log-list dir is a directory/],
  [['check', 'endpoint', 'a.test', '--log-list', 'binary'], /not a text file/],
  [['check', 'endpoint', 'a.test', '--state-dir', 'nostate'], /no certvigil state at nostate/],
  [['check', 'endpoint', 'a.test', '--database', 'mysql://x'], /--database must be a postgres:\/\//],
  [['check', 'mitm', 'h.test', '--state-dir', 'nostate'], /no certvigil state at nostate/],
  [['check', 'endpoint', 'a.test', '--bogus'], /unknown option '--bogus' \(run with --help for usage\)/],
  [['check', 'endpoint', 'a.test', '--log-level', 'verbose'], /--log-level must be one of/],
  [['--log-level', 'verbose', 'check', 'endpoint', 'a.test'], /--log-level must be one of/],
  [['check', 'endpoint', 'a.test'], /\$CERTVIGIL_LOG_LEVEL must be one of/, { CERTVIGIL_LOG_LEVEL: 'bogus' }],
  [['check', 'endpoints'], /required option '--config <file>'/],
  [['check', 'endpoints', '--config', 'missing'], /cannot read --config missing/],
  [['check', 'endpoints', '--config', 'empty'], /--config empty is empty/],
  [['check', 'endpoints', '--config', 'dir'], /--config dir is a directory/],
  [['check', 'endpoints', '--config', 'binary'], /--config binary is not a text file/],
  [['check', 'endpoints', '--config', 'badyaml'], /^CERTVIGIL UNKNOWN - badyaml is not valid YAML: [^\n]*$/],
  [['check', 'endpoints', '--config', 'bracket.yaml'], /endpoints\[0\]: bad target "\[::1"/],
  [['check', 'endpoints', '--config', 'port.yaml'], /endpoints\[0\]: bad target "host.test:99999"/],
  [['check', 'endpoints', '--config', 'second.yaml'], /endpoints\[1\]: bad target "a b:443"/],
  [['check', 'endpoints', '--config', 'days.yaml'], /endpoints\.0\.warning/],
  [['check', 'endpoints', '--config', 'pin.yaml'], /endpoints\[0\]: --pin must be the SHA-256/],
  [['check', 'endpoints', '--config', 'sni.yaml'], /endpoints\[0\]: bad --sni/],
  [['check', 'endpoints', '--config', 'timeout.yaml'], /endpoints\.0\.timeout/],
  [['check', 'endpoints', '--config', 'unknownkey.yaml'], /bogus/],
  [['check', 'endpoints', '--config', 'port.yaml', '--concurrency', '0'], /--concurrency/],
  [
    ['check', 'endpoints', '--config', 'port.yaml', '--concurrency', '99999'],
    /--concurrency must be at most 256/,
  ],
  [['check', 'mitm', '[::1'], /bad target "\[::1"/],
  [['check', 'mitm', 'h.test:443'], /give the ports with --ports/],
  [['check', 'mitm', ''], /bad target "": empty/],
  [['check', 'mitm', 'h.test', '--ports', '0'], /--ports: bad port "0"/],
  [['check', 'mitm', 'h.test', '--ports', '70000'], /--ports: bad port "70000"/],
  [['check', 'mitm', 'h.test', '--ports', '443,443'], /--ports: port 443 given twice/],
  [['check', 'mitm', 'h.test', '--ports', ','], /--ports: no port given/],
  [['check', 'mitm', 'h.test', '--hops', '0'], /--hops/],
  [['check', 'mitm', 'h.test', '--hops', '99'], /--hops must be at most 30/],
  [['check', 'mitm', 'h.test', '--probe-timeout', '-1'], /--probe-timeout/],
  [['check', 'mitm', 'h.test', '--probe-timeout', '1e9'], /--probe-timeout/],
  [['check', 'mitm', 'h.test', '-t', '0'], /-t\/--timeout/],
  [['check', 'mitm', 'h.test', '-t', '99999999'], /-t\/--timeout must be between 1s and 10m/],
  [['check', 'mitm', 'h.test', '--starttls', '5222=gopher'], /--starttls wants PORT=PROTO/],
  [['check', 'mitm', 'h.test', '--ports', '443', '--starttls', '5222=xmpp'], /port 5222 is not in --ports/],
  [['check', 'mitm', 'h.test', '--sni', '1.2.3.4'], /--sni/],
  [['check', 'mitm', 'h.test', '--no-jarm', '--no-trace'], /leave nothing to do/],
];

/** Everything else: exit 2, one `certvigil: …` line on stderr. */
const commandRows: [string[], RegExp, NodeJS.ProcessEnv?][] = [
  [['bogus'], /^certvigil: unknown command 'bogus' \(run with --help for usage\)$/],
  [['--bogus'], /unknown option '--bogus'/],
  [['--log-level', 'verbose', 'jarm', 'a.test'], /--log-level must be one of/],
  [['--log-level=verbose', 'mitm', 'show'], /--log-level must be one of/],
  [['jarm', 'a.test'], /\$CERTVIGIL_LOG_LEVEL must be one of/, { CERTVIGIL_LOG_LEVEL: 'bogus' }],
  ...badTargets.map((t): [string[], RegExp] => [['jarm', t], /bad target/]),
  [['jarm', '127.0.0.1:1', '[::1'], /bad target "\[::1"/],
  [['jarm'], /missing required argument/],
  [['jarm', 'a.test', '--sni', '1.2.3.4'], /--sni/],
  [['jarm', 'a.test', '--concurrency', '0'], /--concurrency/],
  [['jarm', 'a.test', '--concurrency', '99999'], /--concurrency must be at most 256/],
  [['jarm', 'a.test', '--probe-timeout', '-1'], /--probe-timeout/],
  [['jarm', 'a.test', '--probe-timeout', '0'], /--probe-timeout must be between/],
  [['jarm', 'a.test', '--probe-timeout', '1e9'], /--probe-timeout/],
  [['jarm', 'a.test', '--starttls', 'gopher'], /--starttls must be one of/],
  [['jarm', 'a.test', '--proxy', 'https://x:1'], /^certvigil: --proxy supports http:\/\//],
  [['jarm', 'a.test'], /^certvigil: all_proxy supports http:\/\//, { all_proxy: 'gopher://x:1' }],
  [['mitm', 'learn', '[::1'], /bad target "\[::1"/],
  [['mitm', 'learn', 'h.test:443'], /give the ports with --ports/],
  [['mitm', 'learn', LONG_LABEL], /at most 63/],
  [['mitm', 'learn', 'h.test', '--ports', '0'], /--ports: bad port/],
  [['mitm', 'learn', 'h.test', '--ports', '70000'], /--ports: bad port/],
  [['mitm', 'learn', 'h.test', '--ports', '443,443'], /given twice/],
  [['mitm', 'learn', 'h.test', '--ports', ''], /--ports: no port given/],
  [['mitm', 'learn', 'h.test', '--rounds', '0'], /--rounds/],
  [['mitm', 'learn', 'h.test', '--rounds', '-1'], /--rounds/],
  [['mitm', 'learn', 'h.test', '--rounds', '1000000'], /--rounds must be at most 100/],
  [['mitm', 'learn', 'h.test', '--hops', '99'], /--hops must be at most 30/],
  [['mitm', 'learn', 'h.test', '-t', '-1'], /-t\/--timeout/],
  [['mitm', 'learn', 'h.test', '--probe-timeout', '0'], /--probe-timeout/],
  [['mitm', 'learn', 'h.test', '--starttls', '5222=gopher'], /--starttls wants/],
  [['mitm', 'learn', 'h.test', '--sni', '::1'], /--sni/],
  [['mitm', 'learn', 'h.test', '--allow-no-tls', '--no-jarm'], /--allow-no-tls needs the JARM probes/],
  [['mitm', 'learn', 'h.test', '--config', 'missing', '--no-trace'], /missing/],
  [['mitm', 'relearn', '[::1'], /bad target/],
  [['mitm', 'relearn', 'h.test', '--ports', '70000'], /--ports: bad port/],
  [['mitm', 'show', '[::1'], /bad target/],
  [['mitm', 'show', 'h.test:1'], /no port here/],
  [['mitm', 'forget', '[::1'], /bad target/],
  [['mitm', 'forget', 'h.test:99999'], /bad target/],
  [['mitm', 'forget', 'h.test', '--ports', '0'], /--ports: bad port/],
  [['mitm', 'show', 'a', 'b'], /too many arguments/],
];

function expectNoStack(r: Run): void {
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at |Error: |node:internal/);
}

describe.concurrent('check × bad input: exit 3, one CERTVIGIL UNKNOWN line, nothing created', () => {
  it.each(pluginRows)('%j', async (args, why, env) => {
    const root = await sandbox();
    const before = await listing(root);
    const r = await run(args, root, env);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(3);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(/^CERTVIGIL UNKNOWN - \S/);
    expect(lines[0]).toMatch(why);
    expect(isSafeText(lines[0] ?? '')).toBe(true);
    expect(r.stdout).not.toContain('hunter2');
    expectNoStack(r);
    expect(await listing(root)).toEqual(before);
  });
});

describe.concurrent('jarm, mitm × bad input: exit 2, one stderr line, nothing created', () => {
  it.each(commandRows)('%j', async (args, why, env) => {
    const root = await sandbox();
    const before = await listing(root);
    const r = await run(args, root, env);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines, r.stderr).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(/^certvigil: \S/);
    expect(lines[0]).toMatch(why);
    expect(isSafeText(lines[0] ?? '')).toBe(true);
    expectNoStack(r);
    expect(await listing(root)).toEqual(before);
  });
});

describe('no command given', () => {
  it('`certvigil` alone: help with the exit-status table on stderr, exit 2', async () => {
    const root = await sandbox();
    const r = await run([], root);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: certvigil /);
    expect(r.stderr).toMatch(/Exit status/);
    expect(r.stderr).toMatch(/0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/);
  });

  it('`certvigil check` alone: one UNKNOWN line on stdout, help on stderr, exit 3', async () => {
    const root = await sandbox();
    const r = await run(['check'], root);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(
      'CERTVIGIL UNKNOWN - no check given: endpoint, endpoints or mitm (help on stderr)\n',
    );
    expect(r.stderr).toMatch(/^Usage: certvigil check /);
    expect(existsSync(join(root, '.state'))).toBe(false);
  });
});

describe('--help states the exit statuses', () => {
  it.each([
    [['--help'], /Exit status[\s\S]*0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/],
    [['check', '--help'], /Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/],
    [['check', 'endpoint', '--help'], /Exit status: 0 OK, 1 WARNING, 2 CRITICAL/],
    [['check', 'endpoints', '--help'], /Exit status: the worst of all endpoints/],
    [['check', 'mitm', '--help'], /Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/],
    [['jarm', '--help'], /Exit status: 0 every target was probed/],
    [['mitm', '--help'], /Exit status: 0 success; 2/],
    [['mitm', 'learn', '--help'], /Exit status: 0 every port learned; 2 a port could not be learned/],
    [['mitm', 'relearn', '--help'], /Exit status: 0 every port learned; 2/],
    [['mitm', 'show', '--help'], /Exit status: 0 the baselines were printed/],
    [['mitm', 'forget', '--help'], /Exit status: 0 done/],
  ])('%j', async (args, want) => {
    const root = await sandbox();
    const r = await run(args, root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(want);
  });
});
