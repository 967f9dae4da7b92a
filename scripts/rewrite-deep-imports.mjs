// @ts-check
/**
 * Codemod: every cross-module import of src/ that reaches past the target module's index.ts
 * (`../ct/sth.js`) is rewritten to import from that index (`../ct/index.js`), so that the
 * `certvigil/no-deep-imports` rule (scripts/module-map.mjs, ARCHITECTURE.md) can stay an error.
 *
 *   node scripts/rewrite-deep-imports.mjs            rewrite src/ (files outside tests and fixtures)
 *   node scripts/rewrite-deep-imports.mjs --tests    also *.test.ts and *.fixture.ts
 *   node scripts/rewrite-deep-imports.mjs --dry-run  list what would change, write nothing
 *
 * Idempotent: re-run it after a merge that brought new deep imports. What it does, per deep import:
 * - the specifier becomes the target module's index.ts; `import type` stays `import type`, inline
 *   `type` modifiers stay, `as` renames stay; imports of one file from the same index are merged;
 * - a symbol the index does not export yet is added to it (`export { … } from './x.js'`, or
 *   `export type { … }` when the symbol has no value side, as verbatimModuleSyntax requires);
 * - it is left alone, and listed, when it cannot be rewritten without changing meaning: a namespace
 *   or default import, a side-effect import, or a name the index already exports for another symbol;
 *   and when the line before it is `// eslint-disable-next-line certvigil/no-deep-imports -- why`.
 * Never a cycle through an index: only imports ACROSS modules are touched (a module's own files keep
 * importing their siblings), and the module map makes those point down only; the script checks
 * after the rewrite that no index.ts ends up importing, through any chain of indexes, itself.
 * Changed files are formatted with the project's prettier. Review with `git diff`, then run
 * `npx tsc -p tsconfig.json --noEmit` and `npm run lint`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { crossing, moduleOf } from './module-map.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const dryRun = process.argv.includes('--dry-run');
const withTests = process.argv.includes('--tests');

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const isTest = (/** @type {string} */ f) => /\.(test|fixture)\.ts$/.test(f);
const allFiles = walk(srcDir);
const files = allFiles.filter((f) => withTests || !isTest(f));

const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
const options = ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
const program = ts.createProgram(allFiles, { ...options, noEmit: true });
const checker = program.getTypeChecker();

/** @param {string} file */
function sourceFile(file) {
  const sf = program.getSourceFile(file);
  if (sf === undefined) throw new Error(`not in the program: ${file}`);
  return sf;
}

/** @param {ts.Symbol} s */
const unalias = (s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);

/** The exports of a file by name, each resolved to its declaring symbol. @param {string} file */
function exportsOf(file) {
  const sym = checker.getSymbolAtLocation(sourceFile(file));
  /** @type {Map<string, ts.Symbol>} */
  const out = new Map();
  if (sym === undefined) return out;
  for (const e of checker.getExportsOfModule(sym)) out.set(e.name, unalias(e));
  return out;
}

/** Posix relative specifier from a file to a target .ts file, as `.js`. @param {string} from @param {string} to */
function specifierTo(from, to) {
  let rel = relative(dirname(from), to).split(sep).join('/').replace(/\.ts$/, '.js');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

/** Exports to add to each index.ts: index -> target file -> { name, type } */
/** @type {Map<string, Map<string, Map<string, boolean>>>} */
const additions = new Map();
/** Names added (or found) per index, so that two files asking for one name agree. */
/** @type {Map<string, Map<string, ts.Symbol>>} */
const indexExports = new Map();
/** @type {string[]} */
const skipped = [];
/** @type {Map<string, string>} */
const newText = new Map();
let rewritten = 0;
/** @type {string[]} */
const touched = [];

/** @param {string} index */
function knownExports(index) {
  let m = indexExports.get(index);
  if (m === undefined) {
    m = allFiles.includes(index) ? exportsOf(index) : new Map();
    indexExports.set(index, m);
  }
  return m;
}

for (const file of files) {
  const sf = sourceFile(file);
  /** @type {{ start: number, end: number, text: string }[]} */
  const edits = [];
  /** Merged imports per (index specifier, type-only): the first declaration collects them. */
  /** @type {Map<string, { edit: { start: number, end: number, text: string }, specs: string[], typeOnly: boolean, spec: string, exportDecl: boolean }>} */
  const merged = new Map();
  for (const stmt of sf.statements) {
    const isImport = ts.isImportDeclaration(stmt);
    const isExport = ts.isExportDeclaration(stmt);
    if (!isImport && !isExport) continue;
    const ms = stmt.moduleSpecifier;
    if (ms === undefined || !ts.isStringLiteral(ms)) continue;
    const c = crossing(file, ms.text);
    if (c === undefined || !c.deep) continue;
    const where = `${relative(root, file)}:${sf.getLineAndCharacterOfPosition(stmt.getStart()).line + 1}`;
    // A deep import kept on purpose says so (e.g. src/cli/main.ts: the unbundled CLI's start).
    if (
      /eslint-disable-next-line[^\n]*certvigil\/no-deep-imports/.test(
        sf.getFullText().slice(stmt.getFullStart(), stmt.getStart()),
      )
    ) {
      skipped.push(`${where}: ${ms.text} (eslint-disable-next-line certvigil/no-deep-imports)`);
      continue;
    }
    const index = join(srcDir, c.to, 'index.ts');
    const target = c.target;
    if (!allFiles.includes(target)) {
      skipped.push(`${where}: ${ms.text} (target not found)`);
      continue;
    }
    /** @type {readonly (ts.ImportSpecifier | ts.ExportSpecifier)[]} */
    let elements;
    let typeOnly;
    if (ts.isImportDeclaration(stmt)) {
      const clause = stmt.importClause;
      const nb = clause?.namedBindings;
      if (clause === undefined || clause.name !== undefined || nb === undefined || !ts.isNamedImports(nb)) {
        skipped.push(`${where}: ${ms.text} (side-effect, default or namespace import)`);
        continue;
      }
      elements = nb.elements;
      typeOnly = clause.isTypeOnly;
    } else {
      const ec = /** @type {ts.ExportDeclaration} */ (stmt).exportClause;
      if (ec === undefined || !ts.isNamedExports(ec)) {
        skipped.push(`${where}: ${ms.text} (export * from a deep path)`);
        continue;
      }
      elements = ec.elements;
      typeOnly = /** @type {ts.ExportDeclaration} */ (stmt).isTypeOnly;
    }
    const targetExports = exportsOf(target);
    const known = knownExports(index);
    let ok = true;
    /** @type {[string, boolean][]} */
    const wanted = [];
    for (const el of elements) {
      const name = (el.propertyName ?? el.name).text;
      const sym = targetExports.get(name);
      if (sym === undefined) {
        ok = false;
        skipped.push(`${where}: ${name} is not exported by ${relative(root, target)}`);
        continue;
      }
      const have = known.get(name);
      if (have !== undefined && have !== sym) {
        ok = false;
        skipped.push(`${where}: ${relative(root, index)} already exports another ${name}`);
        continue;
      }
      if (have === undefined) wanted.push([name, (sym.flags & ts.SymbolFlags.Value) === 0]);
    }
    if (!ok) continue;
    for (const [name, typeOnlySymbol] of wanted) {
      known.set(name, /** @type {ts.Symbol} */ (targetExports.get(name)));
      const byFile = additions.get(index) ?? new Map();
      additions.set(index, byFile);
      const names = byFile.get(target) ?? new Map();
      byFile.set(target, names);
      names.set(name, typeOnlySymbol);
    }
    const spec = specifierTo(file, index);
    const specs = elements.map((el) => el.getText(sf));
    const key = `${isExport ? 'export' : 'import'}|${typeOnly}|${spec}`;
    const edit = { start: stmt.getStart(sf), end: stmt.getEnd(), text: '' };
    edits.push(edit);
    rewritten++;
    touched.push(file);
    const m = merged.get(key);
    if (m === undefined) merged.set(key, { edit, specs, typeOnly, spec, exportDecl: isExport });
    else m.specs.push(...specs);
  }
  // Imports that already name the index merge with the rewritten ones.
  for (const stmt of sf.statements) {
    if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier)) continue;
    const c = crossing(file, stmt.moduleSpecifier.text);
    if (c === undefined || c.deep) continue;
    const clause = stmt.importClause;
    const nb = clause?.namedBindings;
    if (clause === undefined || clause.name !== undefined || nb === undefined || !ts.isNamedImports(nb))
      continue;
    const spec = specifierTo(file, join(srcDir, c.to, 'index.ts'));
    const m = merged.get(`import|${clause.isTypeOnly}|${spec}`);
    if (m === undefined) continue;
    m.specs.push(...nb.elements.map((el) => el.getText(sf)));
    edits.push({ start: stmt.getStart(sf), end: stmt.getEnd(), text: '' });
  }
  if (edits.length === 0) continue;
  for (const m of merged.values()) {
    const specs = [...new Set(m.specs)].sort((a, b) =>
      a.replace(/^type /, '').localeCompare(b.replace(/^type /, '')),
    );
    m.edit.text = `${m.exportDecl ? 'export' : 'import'}${m.typeOnly ? ' type' : ''} { ${specs.join(', ')} } from '${m.spec}';`;
  }
  let text = sf.getFullText();
  for (const e of edits.sort((a, b) => b.start - a.start)) {
    let end = e.end;
    // A removed declaration takes its line break with it.
    if (e.text === '' && text[end] === '\n') end++;
    text = text.slice(0, e.start) + e.text + text.slice(end);
  }
  newText.set(file, text);
}

// New exports, appended to each index.ts after its last export statement.
for (const [index, byFile] of additions) {
  const exists = allFiles.includes(index);
  const mod = relative(srcDir, dirname(index));
  const lines = [];
  for (const [target, names] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const spec = specifierTo(index, target);
    const values = [...names]
      .filter(([, t]) => !t)
      .map(([n]) => n)
      .sort();
    const types = [...names]
      .filter(([, t]) => t)
      .map(([n]) => n)
      .sort();
    if (values.length > 0) lines.push(`export { ${values.join(', ')} } from '${spec}';`);
    if (types.length > 0) lines.push(`export type { ${types.join(', ')} } from '${spec}';`);
  }
  // A module without an index.ts gets one: its surface is what other modules import today.
  const header = `/**\n * @module ${mod}\n * What other modules use of src/${mod}/ (ARCHITECTURE.md: imports across modules go through index.ts).\n */\n`;
  const base = newText.get(index) ?? (exists ? sourceFile(index).getFullText() : header);
  const lastExport = exists
    ? [...sourceFile(index).statements].reverse().find((s) => ts.isExportDeclaration(s))
    : undefined;
  const at = newText.has(index) || lastExport === undefined ? base.length : lastExport.getEnd();
  const sep_ = base.slice(0, at).endsWith('\n') ? '' : '\n';
  newText.set(
    index,
    `${base.slice(0, at)}${sep_}${lines.join('\n')}${at === base.length ? '\n' : ''}${base.slice(at)}`,
  );
}

// No index may reach itself through other indexes (the map makes this impossible; check anyway).
/** @type {Map<string, Set<string>>} */
const indexGraph = new Map();
for (const file of allFiles.filter((f) => !isTest(f))) {
  const text = newText.get(file) ?? readFileSync(file, 'utf8');
  const from = moduleOf(file);
  if (from === undefined) continue;
  const deps = indexGraph.get(from) ?? new Set();
  indexGraph.set(from, deps);
  for (const m of text.matchAll(/\bfrom '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
    const c = crossing(file, m[1] ?? m[2] ?? '');
    if (c !== undefined) deps.add(c.to);
  }
}
/** @param {string} mod @param {string[]} path @returns {string[] | undefined} */
function cycleFrom(mod, path) {
  if (path.includes(mod)) return [...path, mod];
  for (const d of indexGraph.get(mod) ?? []) {
    const c = cycleFrom(d, [...path, mod]);
    if (c) return c;
  }
  return undefined;
}
for (const mod of indexGraph.keys()) {
  const c = cycleFrom(mod, []);
  if (c) {
    console.error(`rewrite-deep-imports: would create a module cycle ${c.join(' -> ')}; nothing written`);
    process.exit(1);
  }
}

const changed = [...newText.keys()];
if (!dryRun) {
  const prettier = await import('prettier');
  for (const file of changed) {
    const cfg = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(
      file,
      await prettier.format(/** @type {string} */ (newText.get(file)), { ...cfg, filepath: file }),
    );
  }
}
for (const s of skipped) console.log(`left alone: ${s}`);
console.log(
  `${dryRun ? 'would rewrite' : 'rewrote'} ${rewritten} deep imports in ${new Set(touched).size} files; ` +
    `${[...additions.values()].reduce((n, m) => n + [...m.values()].reduce((k, s) => k + s.size, 0), 0)} exports added to ${additions.size} index.ts; ${skipped.length} left alone`,
);
for (const f of changed) console.log(`  ${relative(root, f)}`);
