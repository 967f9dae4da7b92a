/**
 * Child process for lock.test.ts: opens a store and takes its run lock.
 *
 *   node --import tsx lock-holder.fixture.ts hold|try sqlite|postgres LOCATION OWNER
 *
 * Prints one JSON line: `{"locked":true,"pid":N}`, or `{"locked":false,"code":...,"holder":...}`
 * (exit status 3) when another process holds the lock. `hold` then keeps the lock until killed;
 * `try` closes the store and exits.
 */
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';

const [mode, kind, location, owner] = process.argv.slice(2);
if (location === undefined || owner === undefined || (mode !== 'hold' && mode !== 'try'))
  throw new Error('usage: hold|try sqlite|postgres LOCATION OWNER');

const store = kind === 'postgres' ? await openPostgresStore(location) : await openSqliteStore(location);
await store.migrate();
try {
  await store.lock(owner);
} catch (err) {
  const e = err as { code?: string; holder?: unknown; message: string };
  process.stdout.write(
    `${JSON.stringify({ locked: false, code: e.code, holder: e.holder, message: e.message })}\n`,
  );
  await store.close();
  process.exit(3);
}
process.stdout.write(`${JSON.stringify({ locked: true, pid: process.pid })}\n`);
if (mode === 'try') {
  await store.close();
} else {
  // Hold the lock until SIGKILL: nothing but the OS/server may release it. The timer keeps a
  // reference to the store: without one, V8 may collect it once this module's body has finished,
  // and better-sqlite3's finalizer would close the lock connection and so release the lock (seen
  // as a flaky "parent got the lock while the child held it" in lock.test.ts).
  setInterval(() => void store, 1 << 30);
}
