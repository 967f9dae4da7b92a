// The delivery path's heavy packages load on first use (transport-mail.ts, transport-https.ts):
// an `iodef` command that never mails or POSTs must not pay for nodemailer or undici. Checked on
// tsc's unbundled dist/ (run `npm run build` first), where each package shows by its path.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'certvigil-iodef-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The npm packages a fresh Node resolves while running `code` (an ES module) from the repository. */
async function packagesLoadedBy(code: string): Promise<string[]> {
  const dir = mkdtempSync(join(work, 'trace-'));
  const out = join(dir, 'resolved.txt');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      'export async function resolve(spec, ctx, next) {\n' +
      '  const r = await next(spec, ctx);\n' +
      `  appendFileSync(${JSON.stringify(out)}, r.url + '\\n');\n` +
      '  return r;\n' +
      '}\n',
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
  );
  writeFileSync(out, '');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', code],
      { cwd: ROOT, timeout: 20_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()),
    );
  });
  const names = readFileSync(out, 'utf8')
    .split('\n')
    .flatMap((u) => {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      return m?.[1] ? [m[1]] : [];
    });
  return [...new Set(names)].sort();
}

const distUrl = (path: string): string => pathToFileURL(join(ROOT, 'dist', path)).href;

describe('iodef reporter: nodemailer and undici load on first use', () => {
  it('the trace sees them when they are imported (control)', async () => {
    const loaded = await packagesLoadedBy("await import('nodemailer'); await import('undici');");
    expect(loaded).toEqual(expect.arrayContaining(['nodemailer', 'undici']));
  });

  it.each(['iodef/reporter/index.js', 'iodef/reporter/deliver.js', 'iodef/index.js'])(
    'importing dist/%s loads neither',
    async (path) => {
      const loaded = await packagesLoadedBy(`await import(${JSON.stringify(distUrl(path))});`);
      expect(loaded.filter((p) => p === 'nodemailer' || p === 'undici')).toEqual([]);
    },
  );
});
