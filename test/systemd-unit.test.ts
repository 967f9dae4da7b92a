/**
 * contrib/systemd (issue 13): the shipped units pass `systemd-analyze verify` (the binary path
 * swapped for one that exists here; nothing is started) and keep the sandbox the README promises.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../contrib/systemd/', import.meta.url));
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('contrib/systemd', () => {
  it('the daemon unit: reload by SIGHUP, config file, state directory, sandbox', async () => {
    const unit = await readFile(join(DIR, 'certvigil-monitor.service'), 'utf8');
    for (const line of [
      'Type=simple',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'StateDirectory=certvigil',
      'StateDirectoryMode=0700',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    ])
      expect(unit.split('\n')).toContain(line);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/certvigil monitor --config \S+ --state-dir \/var\/lib\/certvigil$/m,
    );
    expect(unit).not.toMatch(/^ExecStart=.*--once/m);
    // V8's JIT needs W+X pages: this setting would make the daemon abort at start.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });

  // No skip: CI installs systemd (for systemd-analyze); without it this fails and says so.
  it('every unit passes systemd-analyze verify', async () => {
    expect(hasAnalyze, 'systemd-analyze (Debian systemd) is needed to verify the units').toBe(true);
    const work = await mkdtemp(join(tmpdir(), 'certvigil-units-'));
    try {
      const files: string[] = [];
      for (const name of await readdir(DIR)) {
        const text = (await readFile(join(DIR, name), 'utf8')).replaceAll(
          '/usr/bin/certvigil',
          process.execPath,
        );
        await writeFile(join(work, name), text);
        files.push(join(work, name));
      }
      // Throws (with systemd's complaints) on a non-zero exit.
      execFileSync('systemd-analyze', ['verify', ...files], { stdio: 'pipe' });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
