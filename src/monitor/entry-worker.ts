/**
 * @module monitor/entry-worker
 * The entry worker thread (started by entry-pool.ts): answers each `{ id, packed }` message with
 * `{ id, examined }` (entry-examine.ts), the hashes' buffer transferred back. A message it cannot
 * handle is answered with `{ id, error }`, and the pool then does that batch itself.
 */
import { parentPort } from 'node:worker_threads';
import { examineLeaves, unpackLeaves } from './entry-examine.js';
import type { PackedLeaves } from './entry-examine.js';

interface Request {
  id: number;
  packed: PackedLeaves;
}

const port = parentPort;
if (port !== null) {
  port.on('message', (msg: Request) => {
    try {
      const examined = examineLeaves(msg.packed.first, unpackLeaves(msg.packed));
      // examineLeaves allocates the hashes as a plain ArrayBuffer: moved back, not copied.
      port.postMessage({ id: msg.id, examined }, [examined.hashes.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
