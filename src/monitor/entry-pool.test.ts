/**
 * The entry examiner answers exactly as the in-thread code does — hashes, names, malformed
 * verdicts — whether a worker thread does the work or not, and whatever happens to that worker.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash, parseMerkleTreeLeaf } from '../ct/index.js';
import { examineLeaves } from './entry-examine.js';
import { inThreadExaminer, workerExaminer } from './entry-pool.js';
import type { Examined } from './entry-pool.js';
import { entryNames } from './entry-summary.js';

const VECTORS = new URL('../../test/vectors/ct/', import.meta.url);

/** Real leaf inputs (certificate-transparency-go's test responses), plus broken ones. */
function leaves(): Uint8Array[] {
  const real = ['ctgo/client/GetEntriesResp.json', 'ctgo/scanner/FourEntries.json'].flatMap((f) =>
    (
      JSON.parse(readFileSync(new URL(f, VECTORS), 'utf8')) as { entries: { leaf_input: string }[] }
    ).entries.map((e) => new Uint8Array(Buffer.from(e.leaf_input, 'base64'))),
  );
  const broken: Uint8Array[] = [];
  for (const l of real) {
    broken.push(l.subarray(0, l.length - 7)); // truncated: the leaf does not parse
    const flipped = new Uint8Array(l);
    flipped[l.length - 40] = (flipped[l.length - 40] as number) ^ 0xff; // inside the certificate
    broken.push(flipped);
    const cut = new Uint8Array(l);
    cut[20] = 0x05; // the certificate's first length byte: the leaf parses, the walk may not
    broken.push(cut);
  }
  const all = [...real, ...broken, new Uint8Array(0), new Uint8Array([0, 0, 1, 2, 3])];
  // Over MIN_WORKER_BATCH, so the worker takes the batch.
  while (all.length < 80) all.push(...all.slice(0, 80 - all.length));
  return all;
}

/** What the monitor computed before the examiner: leafHash and entryNames, entry by entry. */
function direct(first: number, inputs: readonly Uint8Array[]): Examined {
  const hashes = new Uint8Array(inputs.length * 32);
  const names = inputs.map((leafInput, i) => {
    hashes.set(leafHash(leafInput), i * 32);
    try {
      const leaf = parseMerkleTreeLeaf(leafInput, first + i);
      const n = entryNames({ index: first + i, leafInput, leaf, chain: [] });
      return 'malformed' in n ? n.error : n.dnsNames;
    } catch {
      return null;
    }
  });
  return { hashes, names };
}

const plain = (e: Examined): unknown => ({ hashes: Buffer.from(e.hashes).toString('hex'), names: e.names });

describe('entry examiner', () => {
  const inputs = leaves();
  const want = plain(direct(1000, inputs));
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certvigil-entry-pool-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the vectors cover names, malformed certificates and unparsable leaves', () => {
    const names = direct(0, inputs).names;
    expect(names.some((n) => Array.isArray(n) && n.length > 0)).toBe(true);
    expect(names.some((n) => typeof n === 'string')).toBe(true);
    expect(names.some((n) => n === null)).toBe(true);
  });

  it('examineLeaves = leafHash + entryNames, entry by entry', () => {
    expect(plain(examineLeaves(1000, inputs))).toEqual(want);
  });

  it('in a worker thread: the same answers, batch after batch and several at once', async () => {
    const examiner = workerExaminer();
    const results = await Promise.all([0, 1, 2].map(() => examiner.examine(1000, inputs)));
    for (const r of results) expect(plain(r)).toEqual(want);
    expect(plain(await examiner.examine(1000, inputs))).toEqual(want);
    expect(examiner.byWorker).toBe(4); // the worker, not the fallback, answered them
    expect(plain(await inThreadExaminer.examine(1000, inputs))).toEqual(want);
    // A small batch is answered in place, the same way.
    expect(plain(await examiner.examine(1000, inputs.slice(0, 5)))).toEqual(
      plain(direct(1000, inputs.slice(0, 5))),
    );
  });

  it.each([
    ['a worker that exits at its first batch', 'parentPort.on("message", () => process.exit(3));'],
    [
      'a worker that throws at its first batch',
      'parentPort.on("message", () => { throw new Error("boom"); });',
    ],
    [
      'a worker that answers every batch with an error',
      'parentPort.on("message", (m) => parentPort.postMessage({ id: m.id, error: "no" }));',
    ],
    [
      'a worker that never answers and then exits',
      'parentPort.on("message", () => setTimeout(() => process.exit(0), 50));',
    ],
  ])('%s: the batches are examined in this thread instead', async (_name, body) => {
    const file = join(dir, `w-${Math.random().toString(36).slice(2)}.mjs`);
    await writeFile(file, `import { parentPort } from 'node:worker_threads';\n${body}\n`);
    const examiner = workerExaminer({ url: pathToFileURL(file), execArgv: [] });
    const results = await Promise.all([examiner.examine(1000, inputs), examiner.examine(1000, inputs)]);
    for (const r of results) expect(plain(r)).toEqual(want);
    expect(plain(await examiner.examine(1000, inputs))).toEqual(want);
    expect(examiner.byWorker).toBe(0);
  });

  it('a worker script that does not exist: examined in this thread', async () => {
    const examiner = workerExaminer({ url: pathToFileURL(join(dir, 'missing.mjs')), execArgv: [] });
    expect(plain(await examiner.examine(1000, inputs))).toEqual(want);
  });
});
