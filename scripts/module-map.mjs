// @ts-check
/**
 * The module map of src/ (ARCHITECTURE.md), as data, as ESLint rules, and as a listing.
 *
 * A module is a folder under src/ (src/caa/audit/ belongs to caa) or a file at src/'s root. Each has
 * a layer; a module may import only modules on a LOWER layer ("imports point down only",
 * ../STYLE.md), some of them for types only. The layers were derived from the imports as they are
 * (`node scripts/module-map.mjs --summary`), not wished for: the known departures from the intended
 * map are the EXEMPTIONS below, each a finding to fix and then delete.
 *
 *   node scripts/module-map.mjs            one line per cross-module import (tests and fixtures left out)
 *   node scripts/module-map.mjs --summary  module -> the modules it imports, with deep-import counts
 *
 * Rules (plugin `certvigil`, used by eslint.config.js):
 * - `module-map`: an import of a module on the same or a higher layer, or a value import where only
 *   types are allowed, is an error;
 * - `no-deep-imports`: an import of another module's file other than its index.ts; from a file outside
 *   src/ (test/), any import of a module's file other than its index.ts;
 * - `deep-import-reason`: an `eslint-disable… certvigil/no-deep-imports` without `-- <why>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Layer per module; a module may import only modules on a lower layer. */
export const LAYERS = {
  errors: 0, // the one shared leaf: imports nothing
  sanitize: 1,
  duration: 1,
  'state-files': 1,
  'package-files': 1,
  hash: 1,
  dns: 2,
  x509: 2,
  caa: 2, // not 3: caa declares a resolver port that dns fits; it never imports dns
  notify: 2,
  acme: 3, // may use caa's types (STYLE.md), imports nothing of ours today
  ct: 3,
  inventory: 3,
  store: 4,
  monitor: 5,
  iodef: 5,
  probe: 5,
  health: 6,
  server: 7, // the web server and HTTP API over the store; the CLI starts it
  lab: 7, // `certvigil lab`'s world: DNS responder, CT log, CA, TLS services, proxy, namespaces
  cli: 8,
  index: 8, // src/index.ts, the library's root export
};

/** Modules another module may import for types only (only cli builds a concrete store or notifier). */
export const TYPES_ONLY = {
  monitor: ['store', 'notify', 'inventory'],
  iodef: ['store'],
  probe: ['store'],
  health: ['store'],
  server: ['store'],
};

/**
 * Imports that break the map today, allowed file by file so that the linter is green while they are
 * fixed (issue 15). Each is a finding: fix it, then delete its line.
 */
export const EXEMPTIONS = {};

const srcDir = join(root, 'src');

/** The module of an absolute path under src/, or undefined outside src/. */
export function moduleOf(/** @type {string} */ file) {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  return parts.length === 1 ? (parts[0] ?? '').replace(/(\.test|\.fixture)?\.ts$/, '') : parts[0];
}

/**
 * Where a relative import in `file` lands: the target's module, path and whether it goes past the
 * target module's index.ts. Undefined for a package import or a target in the importer's module.
 * @param {string} file @param {string} specifier
 */
export function crossing(file, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const from = moduleOf(file);
  const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
  const to = moduleOf(target);
  if (from === undefined || to === undefined || from === to) return undefined;
  const inFolder = relative(srcDir, target).includes(sep);
  const deep = inFolder && relative(join(srcDir, to), target) !== 'index.ts';
  return { from, to, target, deep };
}

/**
 * Why `from` may not import `to` (undefined when it may).
 * @param {string} relFile the importer, relative to the repository root
 * @param {string} from @param {string} to @param {boolean} typeOnly
 */
export function violation(relFile, from, to, typeOnly) {
  /** @type {Record<string, number>} */
  const layers = LAYERS;
  /** @type {Record<string, string[]>} */
  const exemptions = EXEMPTIONS;
  /** @type {Record<string, string[]>} */
  const typesOnly = TYPES_ONLY;
  const lf = layers[from];
  const lt = layers[to];
  if (lf === undefined) return `module '${from}' has no layer in scripts/module-map.mjs`;
  if (lt === undefined) return `module '${to}' has no layer in scripts/module-map.mjs`;
  if (exemptions[relFile.split(sep).join('/')]?.includes(to)) return undefined;
  if (lt >= lf) return `${from} (layer ${lf}) must not import ${to} (layer ${lt}): imports point down only`;
  if (!typeOnly && typesOnly[from]?.includes(to))
    return `${from} may import ${to} for types only (import type)`;
  return undefined;
}

/** @typedef {import('eslint').Rule.RuleContext} Context */
/** @typedef {import('eslint').Rule.RuleModule} RuleModule */

/**
 * Calls `check(node, specifier, typeOnly)` for every import, re-export and literal `import()`.
 * @param {(node: import('estree').Node, specifier: string, typeOnly: boolean) => void} check
 * @returns {import('eslint').Rule.RuleListener}
 */
function onImports(check) {
  /** @param {unknown} node */
  const kind = (node) => /** @type {{ importKind?: string, exportKind?: string }} */ (node);
  return {
    ImportDeclaration(node) {
      const specs = node.specifiers;
      const typeOnly =
        kind(node).importKind === 'type' ||
        (specs.length > 0 &&
          specs.every((s) => s.type === 'ImportSpecifier' && kind(s).importKind === 'type'));
      check(node, String(node.source.value), typeOnly);
    },
    ExportNamedDeclaration(node) {
      if (node.source) check(node, String(node.source.value), kind(node).exportKind === 'type');
    },
    ExportAllDeclaration(node) {
      check(node, String(node.source.value), kind(node).exportKind === 'type');
    },
    ImportExpression(node) {
      if (node.source.type === 'Literal' && typeof node.source.value === 'string')
        check(node, node.source.value, false);
    },
  };
}

/** @type {RuleModule} */
const moduleMapRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Cross-module imports point down the module map (ARCHITECTURE.md)' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    return onImports((node, specifier, typeOnly) => {
      const c = crossing(file, specifier);
      if (c === undefined) return;
      const why = violation(relative(root, file), c.from, c.to, typeOnly);
      if (why !== undefined) context.report({ node, message: `${why} (ARCHITECTURE.md, module map)` });
    });
  },
};

/**
 * Where a relative import in a file OUTSIDE src/ (test/, its fixtures, scripts) lands in src/: the
 * target's module and path, and whether it goes past that module's index.ts. Undefined for an
 * importer inside src/ (see `crossing`), a package import or a target outside src/.
 * @param {string} file @param {string} specifier
 */
export function reachFromOutside(file, specifier) {
  if (!specifier.startsWith('.') || moduleOf(file) !== undefined) return undefined;
  const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
  const to = moduleOf(target);
  if (to === undefined) return undefined;
  const inFolder = relative(srcDir, target).includes(sep);
  const deep = inFolder && relative(join(srcDir, to), target) !== 'index.ts';
  return { to, target, deep };
}

/** @type {RuleModule} */
const noDeepImportsRule = {
  meta: {
    type: 'suggestion',
    docs: { description: "Another module's code is reached through its index.ts only" },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    return onImports((node, specifier) => {
      const c = crossing(file, specifier) ?? reachFromOutside(file, specifier);
      if (c === undefined || !c.deep) return;
      context.report({
        node,
        message: `deep import of ${relative(root, c.target)}: import from src/${c.to}/index.ts (ARCHITECTURE.md)`,
      });
    });
  },
};

/**
 * A directive that switches `certvigil/no-deep-imports` off must say why after ` -- ` (ESLint's
 * description syntax): a marked deep import is a deliberate seam, and the reason is what tells the
 * next reader whether it still holds.
 * @type {RuleModule}
 */
const deepImportReasonRule = {
  meta: {
    type: 'suggestion',
    docs: { description: 'Disabling certvigil/no-deep-imports needs a reason after --' },
    schema: [],
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const text = comment.value.trim();
          if (!/^eslint-disable(-next-line|-line)?\b/.test(text)) continue;
          const [rules = '', reason = ''] = text.split(/\s--\s/, 2);
          if (!rules.includes('certvigil/no-deep-imports') || reason.trim() !== '') continue;
          context.report({
            loc: comment.loc ?? { line: 1, column: 0 },
            message:
              'say why this deep import is needed: // eslint-disable-next-line certvigil/no-deep-imports -- <why>',
          });
        }
      },
    };
  },
};

export const plugin = {
  meta: { name: 'certvigil' },
  rules: {
    'module-map': moduleMapRule,
    'no-deep-imports': noDeepImportsRule,
    'deep-import-reason': deepImportReasonRule,
  },
};

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every cross-module import of src/ outside tests and fixtures, parsed with the TypeScript compiler. */
export async function crossModuleImports() {
  const ts = (await import('typescript')).default;
  const files = walk(srcDir).filter((f) => !/\.(test|fixture)\.ts$/.test(f));
  const rows = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    /** @type {{ specifier: string, typeOnly: boolean }[]} */
    const found = [];
    /** @param {import('typescript').Node} node */
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const c = node.importClause;
        const named =
          c?.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) ? c.namedBindings : undefined;
        const typeOnly =
          c !== undefined &&
          (c.isTypeOnly ||
            (c.name === undefined &&
              named !== undefined &&
              named.elements.length > 0 &&
              named.elements.every((e) => e.isTypeOnly)));
        found.push({ specifier: node.moduleSpecifier.text, typeOnly });
      } else if (
        ts.isExportDeclaration(node) &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
      } else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] !== undefined &&
        ts.isStringLiteral(node.arguments[0])
      ) {
        found.push({ specifier: node.arguments[0].text, typeOnly: false });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    for (const { specifier, typeOnly } of found) {
      const c = crossing(file, specifier);
      if (c === undefined) continue;
      const rel = relative(root, file);
      rows.push({
        ...c,
        file: rel,
        target: relative(root, c.target),
        typeOnly,
        violation: violation(rel, c.from, c.to, typeOnly),
      });
    }
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await crossModuleImports();
  if (process.argv.includes('--summary')) {
    /** @type {Map<string, Map<string, { n: number, value: number, deep: number }>>} */
    const edges = new Map();
    for (const r of rows) {
      const m = edges.get(r.from) ?? new Map();
      edges.set(r.from, m);
      const e = m.get(r.to) ?? { n: 0, value: 0, deep: 0 };
      e.n++;
      if (!r.typeOnly) e.value++;
      if (r.deep) e.deep++;
      m.set(r.to, e);
    }
    for (const [from, m] of [...edges].sort()) {
      const parts = [...m]
        .sort()
        .map(([to, e]) => `${to}(${e.n}${e.value === 0 ? ' types' : ''}${e.deep ? `, ${e.deep} deep` : ''})`);
      console.log(`${from} -> ${parts.join(' ')}`);
    }
    /** @type {Map<string, number>} */
    const deepBy = new Map();
    for (const r of rows) if (r.deep) deepBy.set(r.from, (deepBy.get(r.from) ?? 0) + 1);
    const deep = [...deepBy].sort().map(([m, n]) => `${m} ${n}`);
    console.log(
      `\ncross-module imports: ${rows.length}, deep: ${rows.filter((r) => r.deep).length} (${deep.join(', ')})`,
    );
    console.log(`against the map: ${rows.filter((r) => r.violation !== undefined).length}`);
  } else {
    for (const r of rows)
      console.log(
        `${r.file} -> ${r.target}${r.typeOnly ? ' [type]' : ''}${r.deep ? ' [deep]' : ''}${r.violation ? ` [${r.violation}]` : ''}`,
      );
  }
}
