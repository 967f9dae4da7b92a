/**
 * Child process for sqlite-crash.test.ts: commits batches to a SQLite store as fast as it can
 * until it is SIGKILLed, resuming from the stored cursor each time it starts.
 *
 *   node --import tsx crash-writer.fixture.ts PATH
 *
 * Batch content is a pure function of the entry index (`crashEntryAt` in store.fixture.ts), so the test can check the
 * whole state against the position alone. Prints `committed N` after each commit returned.
 */
import { LOG_A, batch, crashEntryAt } from './store.fixture.js';
import { openSqliteStore } from './sqlite.js';
import type { IssuanceInput, MalformedInput } from './types.js';

async function main(path: string): Promise<void> {
  const store = await openSqliteStore(path);
  await store.migrate();
  await store.lock(`crash-writer ${process.pid}`);
  let position = (
    await store.ensureCursor({
      logId: LOG_A,
      url: 'https://ct.example/a/',
      kind: 'rfc6962',
      description: 'A',
      position: 0,
      tree: { size: 0, hashes: [] },
    })
  ).position;
  process.stdout.write(`ready ${position}\n`);
  for (;;) {
    const size = 1 + Math.floor(Math.random() * 400);
    const issuances: IssuanceInput[] = [];
    const malformed: MalformedInput[] = [];
    for (let i = position; i < position + size; i++) {
      const e = crashEntryAt(i);
      if (e.issuance) issuances.push(e.issuance);
      if (e.malformed) malformed.push(e.malformed);
    }
    await store.commitBatch(
      batch(LOG_A, position, position + size, {
        issuances,
        malformed,
        alerts: issuances.map((i) => ({
          key: `issuance:${i.tbsSha256}`,
          kind: 'issuance',
          payload: { index: i.index },
        })),
      }),
    );
    position += size;
    process.stdout.write(`committed ${position}\n`);
  }
}

const path = process.argv[2];
if (path !== undefined) await main(path);
