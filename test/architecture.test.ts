/**
 * ARCHITECTURE.md stays true and the module map stays enforced: every `src/` path the document
 * names exists, and the linter reports an import that runs up the map (eslint.config.js, rule
 * `certvigil/module-map` from scripts/module-map.mjs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');

/** Every `src/…` path in the text, without trailing punctuation. */
function srcPaths(text: string): string[] {
  const found = text.match(/\bsrc\/[\w./-]*/g) ?? [];
  return [...new Set(found.map((p) => p.replace(/[.,]+$/, '')))].sort();
}

describe('ARCHITECTURE.md', () => {
  const paths = srcPaths(doc);

  it('names the files it describes', () => {
    expect(paths.length).toBeGreaterThan(40);
  });

  it.each(paths)('%s exists', (path) => {
    expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('is linked from README.md', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('(ARCHITECTURE.md)');
  });

  it('names every module of the map', async () => {
    const { LAYERS } = await import('../scripts/module-map.mjs');
    for (const module of Object.keys(LAYERS)) {
      expect(doc, module).toMatch(new RegExp(`src/${module}(/|\\.ts)`));
    }
  });
});

describe('module map lint rule', () => {
  const eslint = new ESLint({ cwd: root });

  /** Messages of the map rules for `code` linted as if it were the file at `path`. */
  async function lint(path: string, code: string, deep = false): Promise<string[]> {
    const linter = deep
      ? new ESLint({ cwd: root, overrideConfig: { rules: { 'certvigil/no-deep-imports': 'error' } } })
      : eslint;
    const [result] = await linter.lintText(code, { filePath: join(root, path) });
    return (result?.messages ?? [])
      .filter((m) => m.ruleId?.startsWith('certvigil/'))
      .map((m) => `${m.ruleId}: ${m.message}`);
  }

  it.each([
    [
      'a lower module importing a higher one',
      'src/ct/arch-fixture.ts',
      "import { x } from '../monitor/index.js';\nexport const y = x;\n",
      /ct \(layer 3\) must not import monitor \(layer 5\)/,
    ],
    [
      'from a subfolder',
      'src/caa/audit/arch-fixture.ts',
      "import { x } from '../../cli/index.js';\nexport const y = x;\n",
      /caa \(layer 2\) must not import cli/,
    ],
    [
      'sideways, same layer',
      'src/monitor/arch-fixture.ts',
      "import { x } from '../iodef/index.js';\nexport const y = x;\n",
      /monitor \(layer 5\) must not import iodef \(layer 5\)/,
    ],
    [
      'caa/audit/collect.ts importing dns (it receives its resolvers through a port now)',
      'src/caa/audit/collect.ts',
      "import { x } from '../../dns/index.js';\nexport const y = x;\n",
      /caa \(layer 2\) must not import dns/,
    ],
    [
      'caa importing dns',
      'src/caa/arch-fixture.ts',
      "import { x } from '../dns/index.js';\nexport const y = x;\n",
      /caa \(layer 2\) must not import dns/,
    ],
    [
      'a re-export',
      'src/x509/arch-fixture.ts',
      "export { x } from '../ct/index.js';\n",
      /x509 \(layer 2\) must not import ct/,
    ],
    [
      'a dynamic import',
      'src/store/arch-fixture.ts',
      "export const m = () => import('../monitor/index.js');\n",
      /store \(layer 4\) must not import monitor/,
    ],
    [
      'a leaf importing a module',
      'src/errors.ts',
      "import { x } from './sanitize.js';\nexport const y = x;\n",
      /errors \(layer 0\) must not import sanitize/,
    ],
    [
      'a value import where only types are allowed',
      'src/monitor/arch-fixture.ts',
      "import { openStore } from '../store/index.js';\nexport const y = openStore;\n",
      /monitor may import store for types only/,
    ],
  ])('reports %s', async (_what, path, code, expected) => {
    const messages = await lint(path, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(expected);
    expect(messages[0]).toMatch(/^certvigil\/module-map: /);
  });

  it.each([
    [
      'a downward import',
      'src/monitor/arch-fixture.ts',
      "import { x } from '../ct/index.js';\nexport const y = x;\n",
    ],
    [
      'a type import where only types are allowed',
      'src/monitor/arch-fixture.ts',
      "import type { Store } from '../store/index.js';\nexport type S = Store;\n",
    ],
    [
      'an import inside the module',
      'src/caa/audit/arch-fixture.ts',
      "import { x } from '../decide.js';\nexport const y = x;\n",
    ],
    [
      'a test wiring real modules',
      'src/monitor/arch-fixture.test.ts',
      "import { openStore } from '../store/index.js';\nexport const y = openStore;\n",
    ],
  ])('accepts %s', async (_what, path, code) => {
    expect(await lint(path, code)).toEqual([]);
  });

  it('reports deep imports (no-deep-imports is on in eslint.config.js), not those in tests', async () => {
    const code = "import { x } from '../ct/log-reader.js';\nexport const y = x;\n";
    expect(await lint('src/monitor/arch-fixture.test.ts', code)).toEqual([]);
    expect(await lint('src/monitor/arch-fixture.ts', code)).toEqual([
      'certvigil/no-deep-imports: deep import of src/ct/log-reader.ts: import from src/ct/index.ts (ARCHITECTURE.md)',
    ]);
    const barrel = "import { x } from '../ct/index.js';\nexport const y = x;\n";
    expect(await lint('src/monitor/arch-fixture.ts', barrel, true)).toEqual([]);
  });

  it.each([
    [
      'a deep import',
      "import { x } from '../src/ct/log-reader.js';\nexport const y = x;\n",
      [
        'certvigil/no-deep-imports: deep import of src/ct/log-reader.ts: import from src/ct/index.ts (ARCHITECTURE.md)',
      ],
    ],
    [
      "a submodule's index (caa/audit is part of caa)",
      "import { x } from '../src/caa/audit/index.js';\nexport const y = x;\n",
      [
        'certvigil/no-deep-imports: deep import of src/caa/audit/index.ts: import from src/caa/index.ts (ARCHITECTURE.md)',
      ],
    ],
    [
      'a deep type import',
      "import type { X } from '../src/store/types.js';\nexport type Y = X;\n",
      [
        'certvigil/no-deep-imports: deep import of src/store/types.ts: import from src/store/index.ts (ARCHITECTURE.md)',
      ],
    ],
    [
      'a marked deep import without a reason',
      "// eslint-disable-next-line certvigil/no-deep-imports\nimport { x } from '../src/ct/log-reader.js';\nexport const y = x;\n",
      [
        'certvigil/deep-import-reason: say why this deep import is needed: // eslint-disable-next-line certvigil/no-deep-imports -- <why>',
      ],
    ],
    ['an import through the index', "import { x } from '../src/ct/index.js';\nexport const y = x;\n", []],
    ['a root module', "import { x } from '../src/errors.js';\nexport const y = x;\n", []],
    ['another test file', "import { x } from './cli-run.js';\nexport const y = x;\n", []],
    [
      'a marked deep import with its reason',
      "// eslint-disable-next-line certvigil/no-deep-imports -- the seam under test\nimport { x } from '../src/ct/log-reader.js';\nexport const y = x;\n",
      [],
    ],
  ])('in test/: %s', async (_what, code, expected) => {
    expect(await lint('test/arch-fixture.test.ts', code)).toEqual(expected);
  });

  it('finds no unmarked deep import in test/ as it is', { timeout: 120_000 }, async () => {
    const ruleFilter = ({ ruleId }: { ruleId: string }) => ruleId.startsWith('certvigil/');
    const results = await new ESLint({ cwd: root, ruleFilter }).lintFiles(['test/**/*.ts']);
    const found = results.flatMap((r) =>
      r.messages
        .filter(
          (m) => m.ruleId === 'certvigil/no-deep-imports' || m.ruleId === 'certvigil/deep-import-reason',
        )
        .map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(found).toEqual([]);
  });

  it('finds no import against the map in src/ as it is', async () => {
    const { crossModuleImports } = await import('../scripts/module-map.mjs');
    const rows = await crossModuleImports();
    expect(rows.length).toBeGreaterThan(250);
    expect(rows.filter((r) => r.violation !== undefined)).toEqual([]);
  });
});

/**
 * src/errors.ts holds the registry `ErrorCodes`; each module declares its own codes once, in its
 * errors.ts, by declaration merging, with its name as the value (so TypeScript refuses the same
 * code declared by two modules). What the compiler cannot see: where the declaration sits, and a
 * code declared twice with the same owner.
 */
describe('error codes', () => {
  const sources = listSources(join(root, 'src'));
  const declared = new Map<string, { owner: string; file: string }[]>();
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    const isRegistry = file.endsWith('/src/errors.ts');
    if (!isRegistry && !/declare module '(\.\.?\/)+errors\.js'/.test(text)) continue;
    for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9_]+): '([a-z0-9-]+)';$/gm)) {
      const list = declared.get(m[1] as string) ?? [];
      list.push({ owner: m[2] as string, file: file.slice(root.length + 1) });
      declared.set(m[1] as string, list);
    }
  }

  it('finds the codes of every module', () => {
    const owners = new Set([...declared.values()].flat().map((d) => d.owner));
    expect([...owners].sort()).toEqual(
      [
        'caa',
        'cli',
        'core',
        'ct',
        'dns',
        'inventory',
        'iodef',
        'lab',
        'monitor',
        'notify',
        'probe',
        'state-files',
        'store',
        'x509',
      ].sort(),
    );
    expect(declared.size).toBeGreaterThan(100);
  });

  it('declares each code once, in the errors.ts of the module it names as owner', () => {
    const wrong: string[] = [];
    for (const [code, list] of declared) {
      if (list.length !== 1)
        wrong.push(`${code}: declared ${list.length} times (${list.map((d) => d.file).join(', ')})`);
      for (const { owner, file } of list) {
        const home =
          owner === 'core'
            ? 'src/errors.ts'
            : owner === 'state-files'
              ? 'src/state-files.ts'
              : `src/${owner}/errors.ts`;
        if (file !== home) wrong.push(`${code}: declared in ${file}, owner ${owner} (expected ${home})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lists no code as a string union outside the registry (no second declaration)', () => {
    const unions: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^export type \w*ErrorCode\s*=\s*\n?\s*\|?\s*'([A-Z0-9_]+)'/gm))
        unions.push(`${file.slice(root.length + 1)}: ${m[0].split('=')[0]?.trim()}`);
    }
    expect(unions).toEqual([]);
  });

  it('every error class a module exports is a CertvigilError', async () => {
    const { CertvigilError } = await import('../src/errors.js');
    const modules: Record<string, () => Promise<Record<string, unknown>>> = {
      acme: () => import('../src/acme/index.js'),
      caa: () => import('../src/caa/index.js'),
      ct: () => import('../src/ct/index.js'),
      dns: () => import('../src/dns/index.js'),
      health: () => import('../src/health/index.js'),
      inventory: () => import('../src/inventory/index.js'),
      iodef: () => import('../src/iodef/index.js'),
      monitor: () => import('../src/monitor/index.js'),
      notify: () => import('../src/notify/index.js'),
      probe: () => import('../src/probe/index.js'),
      store: () => import('../src/store/index.js'),
      x509: () => import('../src/x509/index.js'),
    };
    const plain: string[] = [];
    let classes = 0;
    for (const [name, load] of Object.entries(modules)) {
      for (const [key, value] of Object.entries(await load())) {
        if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
        classes++;
        if (!(value.prototype instanceof CertvigilError)) plain.push(`${name}: ${key}`);
      }
    }
    expect(classes).toBeGreaterThan(10);
    expect(plain).toEqual([]);
  });
});

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.ts') && !/\.(test|fixture)\.ts$/.test(entry.name)) out.push(path);
  }
  return out;
}
