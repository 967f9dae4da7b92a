/**
 * `certvigil lab --keep DIR`, `--step` and the usage errors, through the built binary (issue 17's
 * CONTRACT: "`--keep DIR` leaves the whole world (zones, CA, log, state) for the user to explore
 * with the other commands, and prints how"). The printed commands are run by /bin/sh as printed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCtLog, LOG_FILES, ISSUER_FILES } from '../src/lab/index.js';
import { CLI, runCliTimed } from './cli-run.js';
import type { TimedCliResult } from './cli-run.js';
import {
  KILL_MS,
  TEST_MS,
  checkLoopbackDetectors,
  checkShape,
  expectEmpty,
  freshTmp,
  reportTimings,
} from './lab-contract.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-lab-keep-test-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const timings: Record<string, number> = {};
afterAll(() => reportTimings('lab-keep.test', timings));

describe('certvigil lab --keep DIR', () => {
  let keep: string;
  let run: TimedCliResult;
  let tmp: string;

  beforeAll(async () => {
    // The parent does not exist either; a space, a quote and non-ASCII test the printed commands' quoting.
    keep = join(work, "kept world's ünï", 'world');
    tmp = await freshTmp(work, 'keep-tmp');
    run = await runCliTimed(['lab', '--json', '--keep', keep], { env: { TMPDIR: tmp }, timeoutMs: KILL_MS });
    timings.keep = run.ms;
  }, TEST_MS);

  it('exit 0, the same seven lines, nothing left in TMPDIR', async () => {
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    checkLoopbackDetectors(run, checkShape(run));
    await expectEmpty(tmp);
  });

  it('DIR holds the zone, the CA, the saved CT log and log list, the victim’s certbot and state, the iodef state, the attacker’s certificate', async () => {
    const files = [
      'dns/lab.zone',
      'ca/root.pem',
      `ca/issuer/${ISSUER_FILES.certificate}`,
      `ca/issuer/${ISSUER_FILES.key}`,
      'ct/loglist.json',
      `ct/log/${LOG_FILES.key}`,
      `ct/log/${LOG_FILES.state}`,
      'victim/certbot/renewal/jabber.lab.conf',
      'victim/certbot/live/jabber.lab/fullchain.pem',
      'victim/certbot/live/jabber.lab/privkey.pem',
      'victim/state/certvigil.sqlite3',
      'victim/iodef/certvigil.sqlite3',
      'attacker/fullchain.pem',
      'attacker/privkey.pem',
    ];
    for (const f of files) expect(existsSync(join(keep, f)), f).toBe(true);
    expect((await readdir(join(keep, 'victim/certbot/accounts'))).length).toBeGreaterThan(0);
    // The zone holds the victim's records and the CAA the run ended with.
    const zone = await readFile(join(keep, 'dns/lab.zone'), 'utf8');
    expect(zone).toMatch(/^jabber\.lab\.\s+\d+\s+IN\s+A\s+127\.0\.0\.1$/m);
    expect(zone).toMatch(/^jabber\.lab\.\s+\d+\s+IN\s+CAA\s+0 issue "ca\.lab/m);
    // The saved CT log loads again: 3 victim renewals and the attacker's, each precertificate + final.
    const log = await LabCtLog.load(join(keep, 'ct/log'));
    expect(log.size).toBeGreaterThanOrEqual(8);
    const attacker = await readFile(join(keep, 'attacker/fullchain.pem'), 'utf8');
    expect(attacker).toContain('-----BEGIN CERTIFICATE-----');
    // Private material stays private (the world holds keys).
    expect(statSync(join(keep, 'attacker/privkey.pem')).mode & 0o077).toBe(0);
  });

  it('stderr says where everything is and how to explore it', () => {
    expect(run.stderr).toContain(`The lab's world is kept in ${keep}`);
    for (const what of [
      'certvigil certs list --unknown --state-dir',
      'certvigil iodef list --state-dir',
      'certvigil caa evaluate jabber.lab --zone',
      'certvigil acme accounts --acme-dir',
    ])
      expect(run.stderr).toContain(what);
  });

  /** The printed command line run by /bin/sh, with `certvigil` being the built binary. */
  function shellRun(line: string): TimedCliResult {
    const started = Date.now();
    try {
      const stdout = execFileSync('/bin/sh', ['-c', `certvigil() { "$CV_NODE" "$CV_CLI" "$@"; }\n${line}`], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', CV_NODE: process.execPath, CV_CLI: CLI },
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { code: 0, stdout, stderr: '', ms: Date.now() - started };
    } catch (err) {
      const e = err as { status?: number | null; stdout?: string; stderr?: string };
      return {
        code: e.status ?? -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
        ms: Date.now() - started,
      };
    }
  }
  const printed = (what: string): string => {
    const line = run.stderr.split('\n').find((l) => l.trimStart().startsWith(`certvigil ${what}`));
    expect(line, `a printed "certvigil ${what}" line`).toBeDefined();
    return (line as string).trim();
  };

  it('printed: certs list --unknown lists the attacker’s certificate with the three reasons', () => {
    const r = shellRun(printed('certs list --unknown'));
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      /^UNKNOWN \S+ jabber\.lab,www\.jabber\.lab .*not-in-inventory, new-key, off-cadence$/,
    );
  });

  it('printed: iodef list shows the CA’s report of the refusal', () => {
    const r = shellRun(printed('iodef list'));
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^HIGH\s.*certvigil lab CA refused jabber\.lab .*account-uri-mismatch/);
  });

  it('printed: caa evaluate on the two kept zones: DENY with the RFC 8657 records, ALLOW with 2023’s', () => {
    const lines = run.stderr.split('\n').filter((l) => l.trimStart().startsWith('certvigil caa evaluate'));
    expect(lines).toHaveLength(2);
    const [bound, plain] = lines.map((l) => shellRun(l.trim()));
    expect(bound?.code, bound?.stderr).toBe(1);
    expect(bound?.stdout).toMatch(/^DENY\s+jabber\.lab: .*RFC 8657/);
    expect(plain?.code, plain?.stderr).toBe(0);
    expect(plain?.stdout).toMatch(/^ALLOW jabber\.lab: /);
  });

  it('printed: acme accounts reads the victim’s certbot account', () => {
    const r = shellRun(printed('acme accounts'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('acme.ca.lab');
  });
});

describe('certvigil lab usage errors: exit 2, one line on stderr, nothing created', () => {
  async function snapshot(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const name of (await readdir(dir, { recursive: true })).sort()) {
      const p = join(dir, name);
      const st = await stat(p);
      out.push(`${name} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
    }
    return out;
  }

  it('--keep on a non-empty directory', async () => {
    const tmp = await freshTmp(work, 'usage-nonempty-tmp');
    const dir = join(work, 'nonempty');
    await mkdir(dir);
    await writeFile(join(dir, 'mine.txt'), 'not the lab’s\n');
    const before = await snapshot(dir);
    const r = await runCliTimed(['lab', '--json', '--keep', dir], {
      env: { TMPDIR: tmp },
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('not empty');
    expect(await snapshot(dir)).toEqual(before);
    expect(await readFile(join(dir, 'mine.txt'), 'utf8')).toBe('not the lab’s\n');
    await expectEmpty(tmp);
  });

  it('--keep on a regular file', async () => {
    const tmp = await freshTmp(work, 'usage-file-tmp');
    const file = join(work, 'a-file');
    await writeFile(file, 'x');
    const r = await runCliTimed(['lab', '--keep', file], { env: { TMPDIR: tmp }, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe('x');
    await expectEmpty(tmp);
  });

  it('--step bogus (with --keep of a new directory: not created)', async () => {
    const tmp = await freshTmp(work, 'usage-step-tmp');
    const dir = join(work, 'never-created');
    const r = await runCliTimed(['lab', '--json', '--step', 'bogus', '--keep', dir], {
      env: { TMPDIR: tmp },
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('--step must be one of world, before, attack, detect');
    expect(existsSync(dir)).toBe(false);
    await expectEmpty(tmp);
  });
});

describe('certvigil lab --step before --keep DIR', () => {
  let keep: string;
  let run: TimedCliResult;

  beforeAll(async () => {
    keep = join(work, 'step-before');
    run = await runCliTimed(['lab', '--json', '--step', 'before', '--keep', keep], { timeoutMs: KILL_MS });
    timings['step before'] = run.ms;
  }, TEST_MS);

  it('exit 0 (the user asked for the stop), seven lines, every detector "not run: stopped after step before", not expected', () => {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const lines = checkShape(run);
    for (const line of lines) {
      expect(line.fired).toBe(false);
      expect(line.detail).toBe('not run: stopped after step before (--step)');
      expect(line.expected).toBe(false);
    }
  });

  it('the world of step 2 is kept: CAA bound to the victim’s account, baselines learned, no attacker', async () => {
    const zone = await readFile(join(keep, 'dns/lab.zone'), 'utf8');
    expect(zone).toMatch(/CAA\s+0 issue "ca\.lab; accounturi=https:\/\/\S+; validationmethods=http-01"/);
    expect(zone).toMatch(/CAA\s+0 iodef "https:\/\/iodef\.jabber\.lab:\d+\/"/);
    expect(existsSync(join(keep, 'victim/state/certvigil.sqlite3'))).toBe(true);
    expect(existsSync(join(keep, 'attacker/fullchain.pem'))).toBe(false);
    expect(existsSync(join(keep, `ct/log/${LOG_FILES.state}`))).toBe(true);
    expect(run.stderr).toContain(`The lab's world is kept in ${keep}`);
  });

  it('the kept zone denies the attacker’s account (caa evaluate --zone, exit 1)', () => {
    const m = /--account-uri (\S+) --method http-01/.exec(run.stderr);
    expect(m).not.toBeNull();
    const r = execFileSyncStatus([
      'caa',
      'evaluate',
      'jabber.lab',
      '--zone',
      join(keep, 'dns/lab.zone'),
      '--ca',
      'ca.lab',
      '--account-uri',
      m?.[1] ?? '',
      '--method',
      'http-01',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^DENY\s+jabber\.lab: .*RFC 8657/);
  });
});

/** The binary, synchronously, for a quick offline command. */
function execFileSyncStatus(args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string; stderr?: string };
    return { code: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
