/**
 * ARCHITECTURE.md stays true and the module map stays enforced: every `src/` path the document
 * names exists, and the linter reports an import that runs up the map (eslint.config.js, rule
 * `certvigil/module-map` from scripts/module-map.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
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
