/**
 * @module health/workers
 * Who is working on the catch-up (issue 18): the work units of every log by state, and per worker
 * the units it holds and until when. Pure: built from `Store.listUnits()` and the time.
 */
import type { WorkUnit } from '../store/index.js';

export interface WorkerView {
  workerId: string;
  /** Units it holds now (claimed, lease not run out). */
  holding: number;
  /** The latest lease end among them (ISO). */
  leaseUntil: string;
}

export interface UnitsView {
  open: number;
  claimed: number;
  /** Claimed, but the lease ran out: the worker died or stalled; any worker reclaims them. */
  expired: number;
  done: number;
  /** Entries not yet folded into the logs' trees, over all units. */
  entries: number;
  workers: WorkerView[];
}

export function unitsView(units: readonly WorkUnit[], now: Date): UnitsView {
  const view: UnitsView = { open: 0, claimed: 0, expired: 0, done: 0, entries: 0, workers: [] };
  const byWorker = new Map<string, WorkerView>();
  for (const u of units) {
    view.entries += u.last - u.first;
    if (u.state === 'open') view.open++;
    else if (u.state === 'done') view.done++;
    else if (u.leaseUntil === null || Date.parse(u.leaseUntil) <= now.getTime()) view.expired++;
    else {
      view.claimed++;
      const id = u.workerId ?? '?';
      const w = byWorker.get(id) ?? { workerId: id, holding: 0, leaseUntil: u.leaseUntil };
      w.holding++;
      if (u.leaseUntil > w.leaseUntil) w.leaseUntil = u.leaseUntil;
      byWorker.set(id, w);
    }
  }
  view.workers = [...byWorker.values()].sort((a, b) => a.workerId.localeCompare(b.workerId));
  return view;
}
