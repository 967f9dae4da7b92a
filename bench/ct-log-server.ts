/**
 * Child process for bench/ct.ts and bench/workers.ts: builds the local CT log fixture with N
 * entries, serves it over RFC 6962 and static-ct-api on 127.0.0.1, writes log lists, prints one
 * JSON line with the URLs, and serves until SIGTERM. A separate process, so the tool being measured
 * does not share its event loop with the log server.
 *
 * `--rate-limit RPS[:BURST]` also serves the same log from a second server that limits each client
 * address (429 + Retry-After, as public logs limit per IP), with its own log lists
 * (`loglist-*-limited.json`) and URLs under `limited` in the JSON line. Each line `stats` on stdin
 * is answered with one JSON line: `{"rateLimited": N}`, the 429s the limited server sent so far.
 */
import { createInterface } from 'node:readline';
import {
  appendBulk,
  startCtLogServer,
  TestCa,
  TestLog,
  writeLogList,
} from '../test/fixtures/ct-log/index.js';
import type { CtLogServer } from '../test/fixtures/ct-log/index.js';

const usage = (): never => {
  process.stderr.write('usage: ct-log-server.ts COUNT DIR [--rate-limit RPS[:BURST]]\n');
  process.exit(2);
};
const [countArg, dir, ...rest] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count <= 0 || !dir) usage();
let rateLimit: { requestsPerSecond: number; burst?: number } | undefined;
if (rest.length > 0) {
  const m =
    rest[0] === '--rate-limit' && rest.length === 2
      ? /^(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(rest[1] ?? '')
      : null;
  if (m === null) usage();
  else
    rateLimit = { requestsPerSecond: Number(m[1]), ...(m[2] !== undefined ? { burst: Number(m[2]) } : {}) };
}

const ca = await TestCa.create();
const log = new TestLog({ name: 'certvigil bench log', staticCtApi: true });
const started = Date.now();
appendBulk(log, ca, { count });
log.publish();
const generatedMs = Date.now() - started;
const prefixes = { rfc6962Prefix: '/logs/bench/', staticPrefix: '/static/' };
const server = await startCtLogServer(log, prefixes);
await writeLogList(`${dir}/loglist-rfc6962.json`, [{ server, api: 'rfc6962' }]);
await writeLogList(`${dir}/loglist-static.json`, [{ server, api: 'static' }]);
let limited: CtLogServer | undefined;
if (rateLimit !== undefined) {
  limited = await startCtLogServer(log, { ...prefixes, rateLimit });
  await writeLogList(`${dir}/loglist-rfc6962-limited.json`, [{ server: limited, api: 'rfc6962' }]);
  await writeLogList(`${dir}/loglist-static-limited.json`, [{ server: limited, api: 'static' }]);
}
process.stdout.write(
  `${JSON.stringify({
    rfc6962: server.rfc6962Url,
    static: server.staticUrl,
    generatedMs,
    treeSize: log.size,
    ...(limited !== undefined ? { limited: { rfc6962: limited.rfc6962Url, static: limited.staticUrl } } : {}),
  })}\n`,
);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stats')
    process.stdout.write(`${JSON.stringify({ rateLimited: limited?.rateLimited ?? 0 })}\n`);
});
process.on('SIGTERM', () => {
  void Promise.all([server.close(), limited?.close()]).then(() => process.exit(0));
});
