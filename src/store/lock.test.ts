/**
 * The run lock, with real processes: a second store (in this process or another) is refused and
 * told who holds the lock, and a holder killed with SIGKILL (no cleanup code runs) leaves the lock
 * free. Both engines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildScript, ENGINES, LOG_A, batch, startEngine, treeOf } from './store.fixture.js';
import type { EngineHarness, FreshState } from './store.fixture.js';
import type { Store } from './types.js';

interface LockReport {
  locked: boolean;
  pid?: number;
  code?: string;
  holder?: { owner: string; pid: number } | null;
}

const report = (line: string): LockReport => JSON.parse(line) as LockReport;

/** Retries `lock` for a while: a PostgreSQL backend needs a moment to notice its client died. */
async function lockSoon(store: Store, owner: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await store.lock(owner);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'STORE_LOCKED' || Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

describe.each(ENGINES)('%s run lock', (kind) => {
  let engine: EngineHarness;
  let state: FreshState;
  const opened: Store[] = [];
  const children: ChildScript[] = [];

  beforeAll(async () => {
    engine = await startEngine(kind);
  });
  afterAll(async () => {
    await engine?.stop();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill()));
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await state?.dispose();
  });

  async function open(): Promise<Store> {
    const store = await state.open();
    opened.push(store);
    await store.migrate();
    return store;
  }

  function child(mode: 'hold' | 'try', owner: string): ChildScript {
    const c = new ChildScript('lock-holder.fixture.ts', [mode, kind, state.location, owner]);
    children.push(c);
    return c;
  }

  it('refuses a second store in the same process until the first closes', async () => {
    state = await engine.fresh();
    const first = await open();
    await first.lock('first');
    await first.lock('first'); // taking it again is fine
    // Opened after the lock was taken: opening must not disturb it (POSIX locks die with any
    // close() of the file in this process), which a refused child process proves.
    const second = await open();
    const err = await second.lock('second').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_LOCKED', holder: { owner: 'first', pid: process.pid } });
    expect((err as Error).message).toContain('first');
    const outsider = child('try', 'outsider');
    expect(report(await outsider.waitFor((l) => l.startsWith('{')))).toMatchObject({ locked: false });
    await first.close();
    await lockSoon(second, 'second');
  });

  it('refuses another process, and is free again once its holder is SIGKILLed', async () => {
    state = await engine.fresh();
    const holder = child('hold', 'child holder');
    const held = report(await holder.waitFor((l) => l.startsWith('{')));
    expect(held).toEqual({ locked: true, pid: holder.child.pid });

    const store = await open();
    const err = await store.lock('parent').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'STORE_LOCKED',
      holder: { owner: 'child holder', pid: holder.child.pid },
    });

    await holder.kill();
    await lockSoon(store, 'parent');

    // Now the other way round: a second process is refused, and told who holds the lock.
    const intruder = child('try', 'intruder');
    const refused = report(await intruder.waitFor((l) => l.startsWith('{')));
    expect(refused).toMatchObject({
      locked: false,
      code: 'STORE_LOCKED',
      holder: { owner: 'parent', pid: process.pid },
    });
    expect((await intruder.exited).code).toBe(3);
  });

  if (kind === 'postgres') {
    it('stops committing once the session holding the lock is gone', async () => {
      state = await engine.fresh();
      const store = await open();
      await store.lock('victim');
      await store.ensureCursor({
        logId: LOG_A,
        url: 'https://ct.example/a/',
        kind: 'rfc6962',
        description: 'A',
        position: 0,
        tree: treeOf(0),
      });
      await store.commitBatch(batch(LOG_A, 0, 1));
      // An operator (or a server restart) ends the lock's session.
      const admin = postgres(state.location, { max: 1, onnotice: () => undefined });
      try {
        await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = 'certvigil run lock' AND datname = current_database()`;
      } finally {
        await admin.end();
      }
      const deadline = Date.now() + 10_000;
      let code = '';
      while (code !== 'STORE_LOCKED' && Date.now() < deadline) {
        await sleep(20);
        code = await store.commitBatch(batch(LOG_A, 1, 1)).then(
          () => 'committed',
          (e: unknown) => String((e as { code?: unknown }).code),
        );
      }
      expect(code).toBe('STORE_LOCKED');
      // Taking the lock again (nobody else did) lets it commit again.
      await store.lock('victim again');
      await store.commitBatch(batch(LOG_A, 1, 2));
      expect((await store.getCursor(LOG_A))?.position).toBe(2);
    });
  }
});
