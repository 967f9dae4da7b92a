/**
 * Child process for bench/ct.ts: builds the local CT log fixture with N entries, serves it over
 * RFC 6962 and static-ct-api on 127.0.0.1, writes log lists, prints one JSON line with the URLs,
 * and serves until SIGTERM. A separate process, so the tool being measured does not share its
 * event loop with the log server.
 */
import {
  appendBulk,
  startCtLogServer,
  TestCa,
  TestLog,
  writeLogList,
} from '../test/fixtures/ct-log/index.js';

const [countArg, dir] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count <= 0 || !dir) {
  process.stderr.write('usage: ct-log-server.ts COUNT DIR\n');
  process.exit(2);
}
const ca = await TestCa.create();
const log = new TestLog({ name: 'certvigil bench log', staticCtApi: true });
const started = Date.now();
appendBulk(log, ca, { count });
log.publish();
const generatedMs = Date.now() - started;
const server = await startCtLogServer(log, { rfc6962Prefix: '/logs/bench/', staticPrefix: '/static/' });
await writeLogList(`${dir}/loglist-rfc6962.json`, [{ server, api: 'rfc6962' }]);
await writeLogList(`${dir}/loglist-static.json`, [{ server, api: 'static' }]);
process.stdout.write(
  `${JSON.stringify({ rfc6962: server.rfc6962Url, static: server.staticUrl, generatedMs, treeSize: log.size })}\n`,
);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
