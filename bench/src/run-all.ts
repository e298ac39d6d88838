/**
 * `npm run bench`: runs every benchmark in turn in one process (one browser for the browser benches),
 * prints each figure next to its target and appends the rows to BENCHMARKS.md.
 * BENCH_ONLY=tracker-overhead,bytes to run a subset.
 */
import { recordResults, type ResultRow } from './lib/report.js';
import { runTrackerOverhead } from './tracker-overhead.js';
import { runIngest } from './ingest.js';
import { runBytes } from './bytes.js';
import { runRooms, runRoomsTwoNodes } from './rooms.js';
import { runFailover } from './failover.js';
import { runLiveLatency } from './live-latency.js';
import { runJoin } from './join.js';
import { runSearch } from './search.js';
import { runSeek } from './seek.js';
import { runControlLatency } from './control-latency.js';
import { runCallSetup } from './call-setup.js';
import { runCanvasVideo } from './canvas-video.js';
import { runTrackerSize } from './tracker-size.js';

const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const want = (name: string) => only.length === 0 || only.includes(name);

const benches: { name: string; target: string; run: () => Promise<ResultRow[]> }[] = [
  { name: 'tracker-overhead', target: '≤ 1.05× plain @rrweb/record; no tracker task > 50 ms after the first snapshot', run: async () => (await runTrackerOverhead()).rows },
  { name: 'tracker-size', target: 'first script ≤ 40 KB brotli, served compressed; assist and WebRTC code in lazy chunks', run: () => runTrackerSize() },
  { name: 'bytes', target: 'wire ≤ 8 KB/min after the first snapshot; ≤ 0.10× raw JSON on the wire and on disk', run: () => runBytes() },
  { name: 'ingest', target: '≥ 50,000 events/s, p99 ack ≤ 500 ms, zero lost or duplicated', run: () => runIngest() },
  { name: 'rooms', target: '10,000 idle sockets + 500 active rooms at 20 msg/s on one process; p99 relay ≤ 100 ms; backend RSS ≤ 1.5 GB', run: () => runRooms() },
  { name: 'rooms-2-nodes', target: 'two nodes via Redis: cross-node relay p99 within 2× of one node', run: () => runRoomsTwoNodes() },
  { name: 'failover', target: '100% of the killed node\'s tabs back within 10 s, watched sessions drawn again p95 ≤ 3 s, nothing lost or out of order, new connections still rate limited', run: () => runFailover() },
  { name: 'live-latency', target: 'p50 ≤ 50 ms, p95 ≤ 100 ms mutation → drawn; still live with ±60 s clock skew', run: () => runLiveLatency() },
  { name: 'join', target: 'first frame ≤ 1 s p95', run: () => runJoin() },
  { name: 'search', target: 'common filters and free text p95 ≤ 100 ms over 1,000,000 sessions', run: () => runSearch() },
  { name: 'seek', target: 'seek p95 ≤ 250 ms, no task > 100 ms, open ≤ 1 s, heap ≤ 300 MB, 6-hour open ≥ 5× faster than plain @rrweb/replay', run: () => runSeek() },
  { name: 'control-latency', target: 'p95 ≤ 50 ms agent input → event fired on the user page', run: () => runControlLatency() },
  { name: 'call-setup', target: 'p95 ≤ 1.5 s user accepts → media both ways', run: () => runCallSetup() },
  { name: 'canvas-video', target: 'first canvas frame ≤ 1 s; ≥ 24 fps received for a 30 fps source', run: () => runCanvasVideo() },
];

const t0 = Date.now();
let failed = 0;
for (const b of benches.filter((b) => want(b.name))) {
  const started = Date.now();
  console.log(`\n=== ${b.name} ===`);
  try {
    const rows = await b.run();
    recordResults(rows);
  } catch (err) {
    failed++;
    console.error(err);
    recordResults([{ bench: b.name, figure: 'not run', target: b.target, met: null, gap: (err as Error).message.split('\n')[0] }]);
  }
  console.log(`=== ${b.name} took ${((Date.now() - started) / 1000).toFixed(0)} s ===`);
}
console.log(`\nall benches took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exitCode = failed ? 1 : 0;
