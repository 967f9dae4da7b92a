/**
 * @module monitor/entry-pool
 * Where a catch-up's per-entry hashing and certificate walk run: in one worker thread beside the
 * main thread, or in the calling thread. Either way the answers are `examineLeaves`' own.
 *
 * Why a thread (issue 19; profile of `monitor --once`, 200k entries): the monitor's main thread
 * was busy ~95 % of the run and the leaf hash plus the names walk were a third of the read path
 * (read path 3.3 s with them, 2.1 s without). certspotter spreads its work over every core; with
 * this, certvigil uses two: the main thread downloads, decodes, matches and commits while the
 * worker hashes and walks the batch before.
 *
 * Never a reason to fail: if the worker cannot start, exits or errs, every batch it held and all
 * later ones are examined in the calling thread, with the same results. Batches under
 * MIN_WORKER_BATCH entries are examined in place (a round trip costs more than they do). The
 * worker keeps the process alive only while it holds a batch, and stops after IDLE_MS without one
 * (a daemon between passes holds no thread). `CERTVIGIL_ENTRY_WORKER=off` keeps everything in the
 * calling thread.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../package-files.js';
import { examineLeaves, packLeaves } from './entry-examine.js';
import type { Examined } from './entry-examine.js';

export type { Examined, ExaminedNames } from './entry-examine.js';

export interface EntryExaminer {
  /** Leaf hashes and names of entries `first`, `first + 1`, … from their leaf inputs. */
  examine(first: number, leafInputs: readonly Uint8Array[]): Promise<Examined>;
}

/** Everything in the calling thread. */
export const inThreadExaminer: EntryExaminer = {
  examine: (first, leafInputs) => Promise.resolve(examineLeaves(first, leafInputs)),
};

const MIN_WORKER_BATCH = 32;
const IDLE_MS = 10_000;

interface Waiting {
  first: number;
  leafInputs: readonly Uint8Array[];
  resolve: (e: Examined) => void;
}

type Answer = { id: number; examined: Examined } | { id: number; error: string };

/** Which script the worker runs, and with which Node options; or source code to evaluate. */
export type WorkerScript = { url: URL; execArgv: string[] } | { eval: string };

/**
 * The worker script: tsc's output in an installed package or a build (the bundle's chunks cannot
 * name a file relative to themselves, see scripts/bundle.mjs), or the TypeScript source when this
 * module itself runs as source (tests, `tsx`: a worker does not take `--import tsx` from its
 * execArgv, so a small bootstrap registers tsx first). Null when neither exists.
 */
function workerScript(): WorkerScript | null {
  if (import.meta.url.endsWith('.ts')) {
    const source = JSON.stringify(new URL('./entry-worker.ts', import.meta.url).href);
    // Text of the worker's own code, never an import of this module (nor in the bundle, which
    // never runs as .ts): tsx is a development dependency.
    const tsxApi = JSON.stringify('tsx/esm/api');
    return {
      eval: `import(${tsxApi}).then(({ register }) => { register(); return import(${source}); });`,
    };
  }
  try {
    const file = join(packageRoot(), 'dist', 'monitor', 'entry-worker.js');
    return existsSync(file) ? { url: pathToFileURL(file), execArgv: [] } : null;
  } catch {
    return null;
  }
}

class WorkerExaminer implements EntryExaminer {
  constructor(private readonly script: () => WorkerScript | null = workerScript) {}

  /** Batches the worker answered (the rest were examined in the calling thread). */
  byWorker = 0;
  private worker: Worker | null = null;
  /** Set once the worker failed or could not start: from then on, everything in this thread. */
  private inThreadOnly = false;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private idleTimer: NodeJS.Timeout | null = null;

  examine(first: number, leafInputs: readonly Uint8Array[]): Promise<Examined> {
    if (leafInputs.length < MIN_WORKER_BATCH) return inThreadExaminer.examine(first, leafInputs);
    const worker = this.started();
    if (worker === null) return inThreadExaminer.examine(first, leafInputs);
    const packed = packLeaves(first, leafInputs);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { first, leafInputs, resolve });
      if (this.idleTimer !== null) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      // Held while it holds a batch: an unref'd worker would let the process exit mid-batch.
      worker.ref();
      // packLeaves allocates a plain ArrayBuffer: moved to the worker, not copied.
      worker.postMessage({ id, packed }, [packed.bytes.buffer as ArrayBuffer]);
    });
  }

  private started(): Worker | null {
    if (this.worker !== null) return this.worker;
    if (this.inThreadOnly) return null;
    const script = this.script();
    if (script === null) {
      this.inThreadOnly = true;
      return null;
    }
    let worker: Worker;
    try {
      worker =
        'eval' in script
          ? new Worker(script.eval, { eval: true })
          : new Worker(script.url, { execArgv: script.execArgv });
    } catch {
      this.inThreadOnly = true;
      return null;
    }
    worker.on('message', (answer: Answer) => this.answered(worker, answer));
    worker.on('error', () => this.lost(worker));
    worker.on('exit', () => this.lost(worker));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private answered(worker: Worker, answer: Answer): void {
    const w = this.waiting.get(answer.id);
    if (w === undefined) return;
    this.waiting.delete(answer.id);
    if ('examined' in answer) this.byWorker++;
    w.resolve('examined' in answer ? answer.examined : examineLeaves(w.first, w.leafInputs));
    if (this.waiting.size === 0 && this.worker === worker) {
      worker.unref();
      this.idleTimer = setTimeout(() => this.stop(worker), IDLE_MS);
      this.idleTimer.unref();
    }
  }

  /** The worker erred or exited: what it held is examined here, and so is everything after. */
  private lost(worker: Worker): void {
    if (this.worker !== worker) return; // an idle worker we stopped ourselves
    this.worker = null;
    this.inThreadOnly = true;
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.resolve(examineLeaves(w.first, w.leafInputs));
    }
    void worker.terminate().catch(() => undefined);
  }

  private stop(worker: Worker): void {
    if (this.worker !== worker || this.waiting.size > 0) return;
    this.worker = null;
    this.idleTimer = null;
    void worker.terminate().catch(() => undefined);
  }
}

let shared: EntryExaminer | undefined;

/** The process's examiner: one worker thread, unless `CERTVIGIL_ENTRY_WORKER=off`. */
export function defaultExaminer(): EntryExaminer {
  shared ??= process.env.CERTVIGIL_ENTRY_WORKER === 'off' ? inThreadExaminer : new WorkerExaminer();
  return shared;
}

/** A new worker-backed examiner of its own, optionally running another script (tests). */
export function workerExaminer(script?: WorkerScript): EntryExaminer & { readonly byWorker: number } {
  return new WorkerExaminer(script === undefined ? undefined : () => script);
}
