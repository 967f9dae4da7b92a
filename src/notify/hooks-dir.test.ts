/**
 * certspotter 0.24's `hooks.d` (issue 13): every executable of a directory run per event, in name
 * order, dotfiles and non-executables skipped, each with the same environment as the single exec
 * hook; CERT_FILENAME with the chain the entry carries; the malformed-entry variables. Real
 * /bin/sh scripts.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CERT_PEM, TBS_SHA256, issuanceEvent, malformedEvent } from './events.fixture.js';
import { createExecNotifier, listHookDirectory } from './exec.js';
import { createNotifiers } from './index.js';

let work: string;
let hooks: string;
let dump: string;
let tmp: string;

/** Appends its name to $DUMP_DIR/order, dumps its environment and copies the files it was given. */
const script = (name: string, exit = 0) => `#!/bin/sh
set -eu
echo "${name}" >> "$DUMP_DIR/order"
env -0 > "$DUMP_DIR/${name}.env"
for v in CERT_FILENAME ENTRY_FILENAME; do
  eval "f=\\\${$v:-}"
  if [ -n "$f" ]; then cp "$f" "$DUMP_DIR/${name}.$v"; fi
done
exit ${exit}
`;

async function addHook(name: string, mode = 0o755, exit = 0): Promise<void> {
  await writeFile(join(hooks, name), script(name, exit));
  await chmod(join(hooks, name), mode);
}

async function envOf(name: string): Promise<Map<string, string>> {
  const raw = await readFile(join(dump, `${name}.env`), 'utf8');
  return new Map(
    raw
      .split('\0')
      .filter((e) => e.includes('='))
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as [string, string]),
  );
}

const order = async (): Promise<string[]> => (await readFile(join(dump, 'order'), 'utf8')).trim().split('\n');

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-hooksd-'));
  hooks = join(work, 'hooks.d');
  dump = join(work, 'dump');
  tmp = join(work, 'tmp');
  await Promise.all([mkdir(hooks), mkdir(dump), mkdir(tmp)]);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const notifier = (config: { command?: string; directory?: string; timeoutMs?: number }) =>
  createExecNotifier(config, { tmpDir: tmp, env: { ...process.env, DUMP_DIR: dump } });

describe('exec.directory (hooks.d)', () => {
  it('runs every executable in name order, skipping dotfiles, non-executables and directories', async () => {
    await addHook('10-b');
    await addHook('02-a');
    await addHook('.hidden');
    await addHook('notes.txt', 0o644);
    await mkdir(join(hooks, '05-dir'));
    await writeFile(join(work, 'target.sh'), script('20-link'));
    await chmod(join(work, 'target.sh'), 0o755);
    await symlink(join(work, 'target.sh'), join(hooks, '20-link'));
    await symlink(join(work, 'missing'), join(hooks, '30-dangling'));

    expect((await listHookDirectory(hooks)).map((p) => p.slice(hooks.length + 1))).toEqual([
      '02-a',
      '10-b',
      '20-link',
    ]);
    await notifier({ directory: hooks }).send(issuanceEvent());
    expect(await order()).toEqual(['02-a', '10-b', '20-link']);
    // The same environment as the single exec hook, for each of them.
    for (const name of ['02-a', '10-b', '20-link']) {
      const env = await envOf(name);
      expect(env.get('EVENT')).toBe('discovered_cert');
      expect(env.get('TBS_SHA256')).toBe(TBS_SHA256);
    }
    // The temporary files are gone after the last hook.
    expect(await readdir(tmp)).toEqual([]);
  });

  it('runs the command first, then the directory, with identical variables', async () => {
    await addHook('only');
    const command = `cat > /dev/null; echo command >> "$DUMP_DIR/order"; env -0 > "$DUMP_DIR/command.env"`;
    await notifier({ command, directory: hooks }).send(issuanceEvent());
    expect(await order()).toEqual(['command', 'only']);
    const a = await envOf('command');
    const b = await envOf('only');
    for (const v of [
      'EVENT',
      'SUMMARY',
      'TBS_SHA256',
      'CERT_SHA256',
      'LOG_URI',
      'ENTRY_INDEX',
      'CERTVIGIL_SEVERITY',
    ])
      expect(b.get(v), v).toBe(a.get(v));
  });

  it('a failing hook does not stop the next one, but fails the delivery naming it', async () => {
    await addHook('1-fails', 0o755, 3);
    await addHook('2-runs');
    const err = await notifier({ directory: hooks })
      .send(issuanceEvent())
      .then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
    expect(err?.code).toBe('NOTIFY_FAILED');
    expect(err?.message).toMatch(/hook 1-fails exited with status 3/);
    expect(await order()).toEqual(['1-fails', '2-runs']);
  });

  it('a directory that disappeared fails the delivery (retried later), it is not "no hooks"', async () => {
    const n = notifier({ directory: join(work, 'gone') });
    await expect(n.send(issuanceEvent())).rejects.toMatchObject({ code: 'NOTIFY_FAILED' });
  });

  it('an empty directory delivers nothing and succeeds', async () => {
    await notifier({ directory: hooks }).send(issuanceEvent());
    expect(existsSync(join(dump, 'order'))).toBe(false);
  });

  it.each([
    ['neither command nor directory', {}],
    ['a missing directory', { directory: '/nonexistent/hooks.d' }],
    ['a file as directory', { directory: '/etc/hostname' }],
  ])('createNotifiers refuses %s (CONFIG_INVALID)', (_name, exec) => {
    expect(() => createNotifiers({ exec })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('CERT_FILENAME and the malformed-entry variables', () => {
  it('CERT_FILENAME holds the certificate, then the chain the log entry carries', async () => {
    await addHook('h');
    const event = issuanceEvent();
    const issuerDer = Buffer.from('an issuer certificate (DER)').toString('base64');
    const rootDer = Buffer.from('a root certificate (DER)').toString('base64');
    event.issuance.chainDerBase64 = [issuerDer, rootDer];
    await notifier({ directory: hooks }).send(event);
    const pem = await readFile(join(dump, 'h.CERT_FILENAME'), 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toBe(CERT_PEM);
    expect(blocks[1]).toContain(issuerDer.slice(0, 20));
    expect(blocks[2]).toContain(rootDer.slice(0, 20));
  });

  it('without a chain, CERT_FILENAME is the certificate alone (as before)', async () => {
    await addHook('h');
    await notifier({ directory: hooks }).send(issuanceEvent());
    expect(await readFile(join(dump, 'h.CERT_FILENAME'), 'utf8')).toBe(CERT_PEM);
  });

  it('a malformed entry sets LEAF_HASH, PARSE_ERROR and ENTRY_FILENAME from the event', async () => {
    await addHook('m');
    const event = malformedEvent();
    await notifier({ directory: hooks }).send(event);
    const env = await envOf('m');
    expect(env.get('EVENT')).toBe('malformed_cert');
    expect(env.get('LEAF_HASH')).toBe(event.leafHash);
    expect(env.get('PARSE_ERROR')).toBe(event.error);
    expect(env.get('ENTRY_INDEX')).toBe('42');
    expect(JSON.parse(await readFile(join(dump, 'm.ENTRY_FILENAME'), 'utf8'))).toEqual({
      leaf_input: 'AAAB',
      extra_data: 'AAAC',
    });
  });
});
