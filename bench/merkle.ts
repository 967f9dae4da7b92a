/**
 * Merkle hashing throughput on one core: the work an auditor does per downloaded entry (a leaf
 * hash, then one `CompactTree.append`, i.e. ~1 more SHA-256 on average for the merges). Compares
 * Node's one-shot `crypto.hash` (what `ct/merkle` uses when present) with `createHash`, over
 * 540-byte leaves (FACTS.md's reference size) and over the real navigli2025h2 leaves (~700-byte
 * precert entries), so the figures can be set beside FACTS.md's ≈ 185,000 leaf hashes/s.
 *
 * Run alone with `node --import tsx bench/merkle.ts`, or call `benchMerkle()` from `bench/run.ts`.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { CompactTree, leafHash, nodeHash } from '../src/ct/merkle.js';
import { parseDataTile } from '../src/ct/tiles.js';
import { formatTable } from './table.js';

export interface MerkleRow {
  what: string;
  leafBytes: number;
  ops: number;
  /** Median and best of `REPS` timed runs: the machine is shared, so the best is the cleanest. */
  medianPerSecond: number;
  bestPerSecond: number;
}

interface Case {
  what: string;
  leafBytes: number;
  run: (n: number) => number;
}

const REPS = 7;

function navigliLeaves(): Uint8Array[] {
  const dir = new URL('../test/vectors/ct/sunlight/testdata/navigli2025h2/tile/data/', import.meta.url);
  return [0, 1, 2, 3].flatMap((n) =>
    parseDataTile(new Uint8Array(readFileSync(new URL(`00${n}`, dir))), n * 256).map((e) => e.leafInput),
  );
}

const ZERO = new Uint8Array([0]);
const ONE = new Uint8Array([1]);

function cases(): Case[] {
  const synthetic = Array.from({ length: 1024 }, () => new Uint8Array(crypto.randomBytes(540)));
  const real = navigliLeaves();
  const avgReal = Math.round(real.reduce((s, l) => s + l.length, 0) / real.length);
  const hashes = synthetic.map((l) => leafHash(l));
  const out: Case[] = [];
  for (const [label, leaves, bytes] of [
    ['540-byte leaves', synthetic, 540],
    ['navigli2025h2 leaves', real, avgReal],
  ] as const) {
    const leaf = (i: number): Uint8Array => leaves[i & 1023] as Uint8Array;
    out.push(
      {
        what: `leafHash via createHash, 2 updates (${label})`,
        leafBytes: bytes,
        run: (n) => {
          let x = 0;
          for (let i = 0; i < n; i++)
            x ^= crypto.createHash('sha256').update(ZERO).update(leaf(i)).digest()[0] as number;
          return x;
        },
      },
      {
        what: `leafHash, ct/merkle (${label})`,
        leafBytes: bytes,
        run: (n) => {
          let x = 0;
          for (let i = 0; i < n; i++) x ^= leafHash(leaf(i))[0] as number;
          return x;
        },
      },
      {
        what: `leafHash + CompactTree.append (${label})`,
        leafBytes: bytes,
        run: (n) => {
          const t = new CompactTree();
          for (let i = 0; i < n; i++) t.append(leafHash(leaf(i)));
          return t.root()[0] as number;
        },
      },
    );
  }
  out.push(
    {
      what: 'CompactTree.append alone (precomputed leaf hashes)',
      leafBytes: 32,
      run: (n) => {
        const t = new CompactTree();
        for (let i = 0; i < n; i++) t.append(hashes[i & 1023] as Uint8Array);
        return t.root()[0] as number;
      },
    },
    {
      what: 'nodeHash via createHash, 3 updates',
      leafBytes: 64,
      run: (n) => {
        let x = 0;
        for (let i = 0; i < n; i++) {
          const h = crypto.createHash('sha256').update(ONE);
          x ^= h
            .update(hashes[i & 1023] as Uint8Array)
            .update(hashes[(i + 1) & 1023] as Uint8Array)
            .digest()[0] as number;
        }
        return x;
      },
    },
    {
      what: 'nodeHash, ct/merkle',
      leafBytes: 64,
      run: (n) => {
        let x = 0;
        for (let i = 0; i < n; i++)
          x ^= nodeHash(hashes[i & 1023] as Uint8Array, hashes[(i + 1) & 1023] as Uint8Array)[0] as number;
        return x;
      },
    },
  );
  return out;
}

/** Runs every case `REPS` times, interleaved, so load from other processes hits all cases alike. */
export function benchMerkle(n = 200_000): MerkleRow[] {
  const all = cases();
  let sink = 0;
  for (const c of all) sink ^= c.run(n / 10); // warm-up: JIT and OpenSSL first use
  const rates: number[][] = all.map(() => []);
  for (let rep = 0; rep < REPS; rep++) {
    all.forEach((c, i) => {
      const start = process.hrtime.bigint();
      sink ^= c.run(n);
      rates[i]?.push(n / (Number(process.hrtime.bigint() - start) / 1e9));
    });
  }
  if (sink === -1) console.log(sink); // keeps the results observable
  return all.map((c, i) => {
    const r = (rates[i] ?? []).sort((a, b) => a - b);
    return {
      what: c.what,
      leafBytes: c.leafBytes,
      ops: n,
      medianPerSecond: r[Math.floor(r.length / 2)] ?? NaN,
      bestPerSecond: r[r.length - 1] ?? NaN,
    };
  });
}

export function formatMerkleRows(rows: MerkleRow[]): string {
  const header = ['what', 'input bytes', 'ops per run', 'median ops/s', 'best ops/s'];
  const body = rows.map((r) => [
    r.what,
    String(r.leafBytes),
    String(r.ops),
    r.medianPerSecond.toFixed(0),
    r.bestPerSecond.toFixed(0),
  ]);
  return formatTable(header, body);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`## Merkle hashing, one core (${cpu}, node ${process.version})\n`);
  console.log(formatMerkleRows(benchMerkle(Number(process.env.MERKLE_BENCH_N ?? 200_000))));
}
