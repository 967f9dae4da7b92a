/**
 * Child process for bench/ct.ts: certvigil's CT read path in one process — download every entry,
 * parse each certificate, match its names against a watch list, rebuild the Merkle tree and
 * compare it with the verified signed root. Prints one JSON line with the figures.
 */
import { readFileSync } from 'node:fs';
import { CtHttpClient } from '../src/ct/http.js';
import { findLog, loadLogList } from '../src/ct/loglist.js';
import { createLogReader, isMalformed } from '../src/ct/log-reader.js';
import { CompactTree, hashEquals, leafHash } from '../src/ct/merkle.js';
import { entryNames } from '../src/monitor/index.js';
import { parseWatchList } from '../src/monitor/watchlist.js';

const [listFile, url, watchFile, concurrencyArg] = process.argv.slice(2);
if (!listFile || !url || !watchFile) {
  process.stderr.write('usage: ct-pipeline.ts LOGLIST URL WATCHLIST [CONCURRENCY]\n');
  process.exit(2);
}
const concurrency = Number(concurrencyArg ?? 4);
const started = performance.now();
const log = findLog(await loadLogList(listFile), url);
if (!log) throw new Error(`no log ${url}`);
const watch = parseWatchList(readFileSync(watchFile, 'utf8'));
const http = new CtHttpClient({ maxConcurrency: concurrency });
const reader = createLogReader(log, { http, concurrency, batchSize: 256 });
const sth = await reader.treeHead();
const tree = new CompactTree();
let matches = 0;
let malformed = 0;
for await (const batch of reader.entries(0, sth.treeSize, sth.treeSize)) {
  for (const entry of batch.entries) {
    if (isMalformed(entry)) {
      malformed++;
      if (entry.leafInput) tree.append(leafHash(entry.leafInput));
      continue;
    }
    tree.append(leafHash(entry.leafInput));
    const s = entryNames(entry);
    if ('malformed' in s) malformed++;
    else if (s.dnsNames.some((n) => watch.matches(n))) matches++;
  }
}
const verified = tree.size === sth.treeSize && hashEquals(tree.root(), sth.rootHash);
const seconds = (performance.now() - started) / 1000;
await http.close();
process.stdout.write(
  `${JSON.stringify({ entries: tree.size, seconds, matches, malformed, verified, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
);
