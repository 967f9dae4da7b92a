/**
 * SIGKILL at random moments: a child process commits batches to a SQLite store in a loop and is
 * killed mid-flight, several times over the same file. After each kill the state must be exactly
 * "every entry before the position, nothing at or after it": no partial batch, no lost commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite.js';
import { ChildScript, LOG_A, crashEntryAt, treeOf } from './store.fixture.js';

const ROUNDS = 6;

describe('sqlite store under SIGKILL', () => {
  let dir = '';
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it(`keeps a consistent state across ${ROUNDS} kills at random moments`, { timeout: 120_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'certvigil-crash-'));
    const path = join(dir, 'certvigil.sqlite3');
    let previous = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const writer = new ChildScript('crash-writer.fixture.ts', [path]);
      try {
        await writer.waitFor((l) => l.startsWith('committed '));
        await sleep(Math.random() * 300);
      } finally {
        await writer.kill();
      }
      const lastReported = Math.max(
        ...writer.output.filter((l) => l.startsWith('committed ')).map((l) => Number(l.split(' ')[1])),
      );

      // The file itself: intact, every reference resolves.
      const db = new Database(path, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);
      } finally {
        db.close();
      }

      const store = await openSqliteStore(path);
      try {
        await store.migrate();
        const cursor = await store.getCursor(LOG_A);
        const position = cursor?.position ?? -1;
        // A commit that returned is never lost, and the writer moved on in every round.
        expect(position).toBeGreaterThanOrEqual(lastReported);
        expect(position).toBeGreaterThan(previous);
        // The tree was written in the same transaction as the position.
        expect(cursor?.tree).toEqual(treeOf(position));

        const want = { issuances: [] as string[], malformed: [] as number[] };
        for (let i = 0; i < position; i++) {
          const e = crashEntryAt(i);
          if (e.issuance) want.issuances.push(e.issuance.tbsSha256);
          if (e.malformed) want.malformed.push(e.malformed.index);
        }
        const issuances = await store.listIssuances();
        expect(issuances.map((i) => i.tbsSha256).sort()).toEqual([...want.issuances].sort());
        expect(issuances.every((i) => i.entries.length === 1 && i.certSha256s.length === 1)).toBe(true);
        expect((await store.listMalformed()).map((m) => m.index)).toEqual(want.malformed);
        const alerts = await store.listAlerts();
        expect(alerts.map((a) => a.key).sort()).toEqual(want.issuances.map((t) => `issuance:${t}`).sort());
        expect((await store.issuancesForName('shared.example.com')).length).toBe(want.issuances.length);
        previous = position;
      } finally {
        await store.close();
      }
    }
  });
});
