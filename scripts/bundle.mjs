// @ts-check
/**
 * The `certvigil` binary as shipped: src/cli/main.ts bundled and minified with esbuild into
 * dist/bin/certvigil.js (run by `npm run build`, after tsc; `bin` in package.json points here). The
 * library exports stay tsc's unbundled dist/<module>/*.js.
 *
 * Why: Nagios/Icinga start `certvigil check endpoint` for every service every few minutes, and
 * unbundled, Node spent most of a check resolving, reading and compiling ~400 small ESM/CJS files
 * of ours and of node_modules (zod alone is 95). One minified file is read and compiled at once.
 *
 * The short runs (`check endpoint`, `check endpoints`, `jarm`: a plugin started for every service
 * every few minutes) do not load the ESM chunks below: the entry (src/cli/bin.ts) runs each from a
 * CommonJS bundle of its own, dist/bin/short/NAME.cjs, compiled with a V8 code cache made here by a
 * training run (NAME.NODE-VERSION-ARCH.cache; see src/cli/code-cache.ts and `SHORT_RUNS` below). Measured with perf
 * stat (task-clock, 9 runs alternating, loaded 2-core machine): `check endpoint` on loopback 281 ms
 * -> 191 ms of CPU, `jarm --help` 120 -> 90 ms, `jarm` of 40 targets 253 -> 228 ms.
 *
 * One entry file, and (esbuild's code splitting) each command's own code with the packages only it
 * uses (mailparser, smtp-server, postgres, saxes …) in chunks under dist/bin/chunks/ that the entry
 * imports only when that command runs (the `await import()`s of src/cli/main.ts's COMMANDS table).
 * A single file holding everything (3.4 MB) is parsed whole on every run: measured side by side on
 * the 2-core bench machine, `check endpoint` on loopback took 0.37 s CPU (median of 9) as one file
 * and 0.32 s split, `check endpoint --help` 0.22 s vs 0.19 s.
 *
 * External (loaded from node_modules at run time, as before):
 * - better-sqlite3: a native addon (its .node file cannot be bundled);
 * - pino-pretty: required only when stderr is a terminal (src/cli/logger.ts), never by a plugin.
 *
 * CommonJS packages loaded with `await import('pkg')` (socks, undici, nodemailer: lazily, on first
 * use): Node gives such an import the package's exports as named exports beside `default`, esbuild
 * only `default`, so `const { SocksClient } = await import('socks')` would get undefined in the
 * bundle. The `cjs-named-exports` plugin below makes each such import a module that re-exports the
 * names the package has (read at build time), as Node does.
 *
 * zod's error messages in 60-odd languages (`z.locales`, 261 KB of the 459 KB zod adds) are
 * parsed on every run although certvigil never switches from English (zod configures `en` itself,
 * from classic/schemas.js): the `zod-english-only` plugin leaves `z.locales` with `en` alone.
 *
 * Paths: every module of the bundle shares the bundle's `import.meta.url`, so nothing may compute a
 * file's location relative to its own source file; src/package-files.ts finds package.json and
 * data/ from wherever the code runs (tested by test/bundle.test.ts).
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { dirname, resolve as resolvePath, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;
const requireHere = createRequire(`${root}package.json`);

/** A name usable as `export const NAME` (an identifier, not a reserved word). */
function exportable(name) {
  if (!/^[A-Za-z_$][\w$]*$/.test(name) || name === 'default') return false;
  try {
    new Function(`"use strict"; let ${name};`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Each command's chunk should hold only the code it uses. Our modules import each other through
 * their index.ts (ARCHITECTURE.md), and esbuild's code splitting assigns a file reached through a
 * barrel to every entry that imports the barrel, even when "sideEffects": false lets it drop the
 * file's unused members: `check endpoint --help` then loaded the probe, zod and DNS chunks at start
 * (0.13 s CPU became 0.20 s). This plugin reads each value import from another module's index.ts
 * as imports of the files the index re-exports the names from (types are erased anyway), so the
 * bundle's module graph is the one the deep imports used to give; a name the index declares itself
 * stays imported from the index.
 */
/** @type {Map<string, Map<string, { file: string, name: string }>>} */
const barrels = new Map();
/** exported name -> { file, name in that file } for one index.ts, through `export *` of sub-indexes. */
function barrelMap(/** @type {string} */ indexFile) {
  let map = barrels.get(indexFile);
  if (map) return map;
  map = new Map();
  barrels.set(indexFile, map);
  const text = readFileSync(indexFile, 'utf8');
  const at = (/** @type {string} */ spec) => resolvePath(dirname(indexFile), spec.replace(/\.js$/, '.ts'));
  for (const m of text.matchAll(/^export\s+(type\s+)?\{([^}]*)\}\s*from\s*'([^']+)';/gm)) {
    if (m[1]) continue;
    for (const part of (m[2] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      if (part.startsWith('type ')) continue;
      const [name = '', alias] = part.split(/\s+as\s+/);
      map.set(alias ?? name, { file: at(m[3] ?? ''), name });
    }
  }
  for (const m of text.matchAll(/^export\s+\*\s+from\s*'([^']+\/index\.js)';/gm))
    for (const [k, v] of barrelMap(at(m[1] ?? ''))) if (!map.has(k)) map.set(k, v);
  return map;
}
/** @type {import('esbuild').Plugin} */
const throughBarrels = {
  name: 'through-barrels',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (args.path.endsWith(`${sep}index.ts`)) return { contents: text, loader: 'ts' };
      const contents = text.replace(
        /^import\s*\{([^}]*)\}\s*from\s*'(\.[^']*\/index\.js)';/gm,
        (whole, /** @type {string} */ names, /** @type {string} */ spec) => {
          const index = resolvePath(dirname(args.path), spec.replace(/\.js$/, '.ts'));
          const map = barrelMap(index);
          /** @type {Map<string, string[]>} */
          const byFile = new Map();
          const rest = [];
          for (const part of names
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)) {
            if (part.startsWith('type ')) continue;
            const [name = '', local = name] = part.split(/\s+as\s+/);
            const hit = map.get(name);
            if (hit === undefined) rest.push(part);
            else byFile.set(hit.file, [...(byFile.get(hit.file) ?? []), `${hit.name} as ${local}`]);
          }
          const lines = [...byFile].map(([f, n]) => `import { ${n.join(', ')} } from ${JSON.stringify(f)};`);
          if (rest.length > 0) lines.push(`import { ${rest.join(', ')} } from '${spec}';`);
          return lines.length > 0 ? lines.join(' ') : whole.replace(/^import/, 'import type');
        },
      );
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Two packages every command loads, with Node built-ins that no command of ours needs from them at
 * start (each built-in costs its own load; measured together with the code below, 5-8 ms of CPU of
 * a `jarm --help` whose Node floor is ~70 ms):
 * - commander requires child_process only to run executable subcommands, which certvigil has none
 *   of: its `spawn` is required on first call instead;
 * - pino's transports (`pino.transport()`, the `transport` option: log lines formatted in a worker
 *   thread) pull in thread-stream, worker_threads and assert; certvigil writes its lines itself
 *   (src/cli/logger.ts: a synchronous fd 2 destination, or pino-pretty), so the bundle's
 *   `pino.transport` throws instead.
 * Each replacement checks the text it replaces, so a new version of either package fails the build
 * rather than shipping unpatched.
 * @type {import('esbuild').Plugin}
 */
const leanStart = {
  name: 'lean-start',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const line = "const childProcess = require('node:child_process');";
      if (!text.includes(line)) throw new Error(`${args.path}: no "${line}" to make lazy`);
      const lazy =
        'let childProcessModule;\n' +
        "const childProcess = { spawn: (...a) => (childProcessModule ??= require('node:child_process')).spawn(...a) };";
      return { contents: text.replace(line, lazy), loader: 'js' };
    });
    b.onLoad({ filter: /[\\/]pino[\\/]lib[\\/]transport\.js$/ }, (args) => {
      if (!readFileSync(args.path, 'utf8').includes("require('thread-stream')"))
        throw new Error(`${args.path}: thread-stream is no longer what pino's transports use`);
      return {
        contents:
          "module.exports = function transport() { throw new Error('pino transports are not part of the certvigil bundle'); };\n",
        loader: 'js',
      };
    });
  },
};

/** @type {import('esbuild').Plugin} */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
    }));
  },
};

/**
 * Run once a lazily imported package has loaded. undici: under a short run (`check endpoint`,
 * src/cli/short-run.ts sets the mark), llhttp's WebAssembly is compiled by Liftoff alone, without
 * the TurboFan tier-up that Node waits for at exit (60–110 ms of a check's wall time, ~0.1 s CPU).
 * Set here, after undici's own `require`s of Node built-ins and before its first request compiles
 * llhttp, rather than when the run starts: a V8 flag set at run time changes V8's flag hash, and
 * every built-in module compiled afterwards misses Node's embedded code cache (measured: loading
 * tls, crypto, child_process, dns and perf_hooks took 11 ms of CPU, 22 ms after the flag).
 * @type {Record<string, string>}
 */
const AFTER_LOAD = {
  undici:
    'if (globalThis[Symbol.for("certvigil.liftoff-only")] === true)\n' +
    '  require("node:v8").setFlagsFromString("--liftoff-only");\n',
};

/** @type {import('esbuild').Plugin} */
const cjsNamedExports = {
  name: 'cjs-named-exports',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind !== 'dynamic-import' || args.path.startsWith('node:')) return undefined;
      let exports;
      try {
        exports = requireHere(args.path);
      } catch {
        return undefined; // an ES module package: esbuild keeps its named exports itself
      }
      if (exports === null || typeof exports !== 'object') return undefined;
      return { path: args.path, namespace: 'cjs-named-exports', pluginData: Object.keys(exports) };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-named-exports' }, (args) => {
      /** @type {string[]} */
      const names = args.pluginData.filter(exportable);
      const spec = JSON.stringify(args.path);
      // require(), not `import m from`: Node's `default` is module.exports itself, while esbuild's
      // default import follows Babel's __esModule convention (socks sets it: default undefined).
      return {
        contents:
          `const m = require(${spec});\n${AFTER_LOAD[args.path] ?? ''}export default m;\n` +
          names.map((n) => `export const ${n} = m.${n};\n`).join(''),
        resolveDir: root,
        loader: 'js',
      };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { certvigil: 'src/cli/bin.ts' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Stack traces under --log-level debug should still name our functions.
  keepNames: true,
  legalComments: 'none',
  external: ['better-sqlite3', 'pino-pretty'],
  plugins: [throughBarrels, cjsNamedExports, zodEnglishOnly, leanStart],
  // Bundled CommonJS packages call require() for Node built-ins; an ES module has no require.
  banner: {
    js: "import{createRequire as __certvigilRequire}from'node:module';const require=__certvigilRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
});
await chmod(`${outdir}/certvigil.js`, 0o755);
if (process.env.CERTVIGIL_BUNDLE_META)
  await (
    await import('node:fs/promises')
  ).writeFile(process.env.CERTVIGIL_BUNDLE_META, JSON.stringify(result.metafile));

/**
 * The short runs' own bundles and their V8 code caches (src/cli/code-cache.ts): one CommonJS file
 * each (vm.Script takes a cache, an ES module cannot in Node 20), then a training run of each in a
 * child process that saves what V8 compiled. Training command lines reach neither undici nor a DNS
 * server: a refused loopback connection walks flags, spec, connect, verdict and output, and sets
 * no V8 flag (the llhttp flag, `AFTER_LOAD`, would change V8's flag hash and void the cache).
 */
const SHORT_RUNS = {
  check: {
    entry: 'src/cli/short-check.ts',
    train: ['check', 'endpoint', '127.0.0.1:9', '--sni', 'www.example.org', '-t', '5', '--ct-policy', 'none'],
  },
  jarm: { entry: 'src/cli/short-jarm.ts', train: ['jarm', '127.0.0.1:9', '--probe-timeout', '5000'] },
};
const shortDir = `${outdir}/short`;
await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(Object.entries(SHORT_RUNS).map(([name, r]) => [name, r.entry])),
  outdir: shortDir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // code-cache.ts reads the bundle as latin1, the fastest way to a V8 string: ASCII only.
  charset: 'ascii',
  external: ['better-sqlite3', 'pino-pretty'],
  plugins: [throughBarrels, cjsNamedExports, zodEnglishOnly, leanStart],
  // The bundle runs inside code-cache.ts's wrapper function, which passes its URL by this name.
  define: { 'import.meta.url': '__certvigilUrl' },
  logLevel: 'warning',
});
const { execFileSync } = await import('node:child_process');
// tsc's output (npm run build runs tsc first): the same file names as the binary looks for.
const { cacheFileFor } = await import(pathToFileURL(`${root}dist/cli/code-cache.js`).href);
for (const [name, { train }] of Object.entries(SHORT_RUNS)) {
  const file = `${shortDir}/${name}.cjs`;
  if (/\bimport\(/.test(readFileSync(file, 'latin1')))
    throw new Error(`${file}: an import() is left, which a vm.Script cannot run without a loader`);
  try {
    execFileSync(process.execPath, [`${root}scripts/code-cache-train.mjs`, file, ...train], {
      stdio: 'ignore',
      timeout: 60_000,
      // The cache must fit the runs to come: no V8 flags from the environment.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
  } catch (e) {
    // A check that finds nothing listening exits 2 (CRITICAL): the cache is written all the same.
    if (!(e instanceof Error && 'status' in e && typeof e.status === 'number')) throw e;
  }
  readFileSync(cacheFileFor(file)); // fails the build when training wrote none
}

if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
