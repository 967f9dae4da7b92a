/**
 * The hooks every store suite over one engine repeats: the engine started once for the suite, and a
 * migrated store on a new state for each test, closed and its state disposed after the test. Apart
 * from store.fixture.ts because child-process fixture scripts import that one outside vitest.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startEngine } from './store.fixture.js';
import type { EngineHarness, EngineKind, FreshState } from './store.fixture.js';
import type { Store } from './types.js';

export interface EngineSuite {
  /** A migrated store on a new state (the previous one is closed after its test). */
  fresh(): Promise<Store>;
  /** The state of the last `fresh()`, for raw SQL and reopening. */
  state(): FreshState;
}

/** Call inside a `describe`: registers its beforeAll/afterAll/afterEach hooks. */
export function useEngineSuite(kind: EngineKind, startTimeoutMs?: number): EngineSuite {
  let engine: EngineHarness | undefined;
  let state: FreshState | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    engine = await startEngine(kind);
  }, startTimeoutMs);
  afterAll(async () => {
    await engine?.stop();
  });
  afterEach(async () => {
    await store?.close();
    await state?.dispose();
  });
  return {
    async fresh() {
      if (!engine) throw new Error('the engine is not started: call fresh() inside a test');
      state = await engine.fresh();
      store = await state.open();
      await store.migrate();
      return store;
    },
    state() {
      if (!state) throw new Error('no fresh() state yet');
      return state;
    },
  };
}
