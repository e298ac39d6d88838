/**
 * bytes: a scripted 1-minute session (typing, clicks, scrolls, mouse movement, one DOM mutation per
 * second from the page itself) in Chromium with the Tandem tracker posting to a real backend
 * (startServer, temp dataDir). Measures the raw JSON of every event, the bytes on the wire (batch
 * request bodies as the browser sent them) and the bytes on disk (ClickHouse system.parts of the events
 * table). See bench/README.md.
 *
 *   node --import tsx bench/src/bytes.ts        (BYTES_SECONDS=n for a shorter session while developing)
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { Browser, Page, Request } from 'playwright-core';
import { EVALUATE_SHIM, LONGTASK_INIT, launchChromium } from './lib/browser.js';
import { resolve } from 'node:path';
import { TRACKER_DIR, ensureTrackerBundle, readText } from './lib/bundles.js';
import { columnSizes, findEventsTable, partsSize } from './lib/chdb-inspect.js';
import { sessionPage } from './lib/fixtures.js';
import { isMain } from './lib/main.js';
import { atMost, recordResults, type ResultRow } from './lib/report.js';
import { startFixtureServer } from './lib/server.js';
import { fmtBytes, fmtInt, fmtRatio } from './lib/stats.js';
import { loadTandem, startTandem, startTandemIngest } from './lib/tandem.js';
import { runCanvasBytes } from './canvas-bytes.js';
import { unpackBatch } from '@tandem/backend';
import { createStore } from '@tandem/storage';

const BENCH = 'bytes';

interface Captured {
  at: number;
  wire: number;
  body: Buffer;
  keepalive: boolean;
}

interface DecodedBatch extends Captured {
  raw: number;
  /** The body was packed (backend/src/ingest/unpack.ts): events are counted as the page recorded them. */
  packed: boolean;
  events: { seq: number; type: number; json: string }[];
}

function decode(c: Captured): DecodedBatch {
  const gz = c.body[0] === 0x1f && c.body[1] === 0x8b;
  // zlib (pack 2): CM 8 in the low nibble of the first byte (JSON's first byte never has it).
  const zlib = (c.body[0] & 0x0f) === 8;
  const text = (gz ? gunzipSync(c.body) : zlib ? inflateSync(c.body) : c.body).toString('utf8');
  const body = JSON.parse(text) as { pack?: number; events: { seq: number; type: number }[] };
  const packed = body.pack !== undefined;
  // The server's own unpacking: each event comes back as the object the page recorded.
  const parsed = unpackBatch(body) as typeof body;
  return {
    ...c,
    packed,
    raw: Buffer.byteLength(text),
    events: parsed.events.map((e) => ({ seq: e.seq, type: e.type, json: JSON.stringify(e) })),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let mouse = { x: 640, y: 400 };

/** Moves the mouse like a hand: ~60 positions a second over ~300 ms (rrweb samples them every 50 ms). */
async function glide(page: Page, x: number, y: number, ms = 300): Promise<void> {
  const steps = Math.max(2, Math.round(ms / 16));
  const from = mouse;
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(from.x + ((x - from.x) * i) / steps, from.y + ((y - from.y) * i) / steps);
    await sleep(16);
  }
  mouse = { x, y };
}

async function moveTo(page: Page, selector: string): Promise<void> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) return;
  await glide(page, box.x + box.width / 2, box.y + box.height / 2);
}

async function clickOn(page: Page, selector: string): Promise<void> {
  await page.locator(selector).first().scrollIntoViewIfNeeded();
  await moveTo(page, selector);
  await page.mouse.down();
  await sleep(60);
  await page.mouse.up();
}

/** One visitor's minute: fill a form, read (scroll), click around, wander with the mouse. */
function actions(page: Page): (() => Promise<void>)[] {
  const type = async (sel: string, text: string) => {
    await clickOn(page, sel);
    await page.keyboard.type(text, { delay: 140 });
  };
  const scroll = async (dy: number, times: number) => {
    await glide(page, 640, 400, 150);
    for (let i = 0; i < times; i++) {
      await page.mouse.wheel(0, dy);
      await sleep(180);
    }
  };
  const wander = async () => {
    for (let i = 0; i < 4; i++) {
      await glide(page, 100 + ((i * 173) % 1000), 100 + ((i * 97) % 600), 400);
      await sleep(150);
    }
  };
  return [
    wander,
    () => type('#name', 'Ada Lovelace'),
    () => type('#email', 'ada@example.com'),
    () => clickOn(page, '#agree'),
    () => type('#msg', 'Hello, I would like to know more about the team plan.'),
    async () => {
      await page.selectOption('#plan', 'team');
    },
    () => clickOn(page, '#submit'),
    () => clickOn(page, 'button.add[data-i="5"]'),
    () => clickOn(page, 'details summary'),
    async () => {
      for (let i = 0; i < 5; i++) {
        await clickOn(page, '#inc');
        await sleep(250);
      }
    },
    () => scroll(300, 8),
    wander,
    () => scroll(400, 6),
    () => sleep(3000), // reading
    () => scroll(-500, 6),
    wander,
    () => scroll(250, 10),
    () => sleep(2000),
  ];
}

/** The scripted session's rows, then one row per canvas recording level (canvas-bytes.ts). */
export async function runBytes(opts: { seconds?: number; browser?: Browser } = {}): Promise<ResultRow[]> {
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  const at = load();
  // The long-task row depends on what else the machine runs: every row says the load it ran under.
  const rows = (await runSessionBytes(opts)).map((r) => ({ ...r, figure: `${r.figure}; load average ${at} at start, ${load()} at end` }));
  return [...rows, ...(await runCanvasBytes({ browser: opts.browser }))];
}

export async function runSessionBytes(opts: { seconds?: number; browser?: Browser } = {}): Promise<ResultRow[]> {
  const seconds = opts.seconds ?? Number(process.env.BYTES_SECONDS ?? 60);
  const tracker = ensureTrackerBundle();
  if (tracker.error) throw new Error(tracker.error);
  const server = await startFixtureServer();
  server.routes.set('/session.html', { type: 'text/html', body: sessionPage() });
  server.routes.set('/tandem.js', { type: 'text/javascript', body: readText(tracker.path) });
  // The idle chunk (pagehide gzip, the compression worker's source), as the backend serves it next to /tracker.js.
  server.routes.set('/tracker-gzip.js', { type: 'text/javascript', body: readText(resolve(TRACKER_DIR, 'dist/tandem-gzip.js')) });
  const ingest = await startTandemIngest(server, { requireBackend: true });
  const backend = ingest.backend!;
  const browser = opts.browser ?? (await launchChromium());
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(EVALUATE_SHIM + LONGTASK_INIT);
    const captured: Captured[] = [];
    const failed: string[] = [];
    const onRequest = (req: Request) => {
      if (req.method() !== 'POST' || !req.url().includes('/ingest/v1/batch')) return;
      const body = req.postDataBuffer();
      if (!body) {
        failed.push(`no body captured for ${req.url()}`);
        return;
      }
      captured.push({ at: Date.now(), wire: body.length, body, keepalive: false });
    };
    context.on('request', onRequest);
    context.on('requestfailed', (r) => {
      if (r.url().includes('/ingest/')) failed.push(`${r.url()} ${r.failure()?.errorText}`);
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.warn(`[${BENCH}] page error: ${e.message}`));
    await page.goto(`${server.url}/session.html`, { waitUntil: 'load' });
    await loadTandem(page, `${server.url}/tandem.js`, ingest.projectKey, ingest.ingestUrl);
    const startedAt = Date.now();
    const startTimes = await startTandem(page);
    const sessionId: string = await page.evaluate(() => (window as any).Tandem.tracker.sessionId);
    console.log(`[${BENCH}] session ${sessionId} recording to ${ingest.describe}; scripted session of ${seconds} s`);

    // The scripted minute: cycle through the actions until the time is up (bounded by a count too).
    const list = actions(page);
    const endAt = startedAt + seconds * 1000;
    for (let i = 0; i < 500 && Date.now() < endAt; i++) {
      await list[i % list.length]();
    }
    const left = endAt - Date.now();
    if (left > 0) await sleep(left);
    // End of the minute: send what is pending (the tracker would at its next 2 s tick or on pagehide),
    // then stop the tracker so closing the page sends nothing more that the capture could miss.
    await page.evaluate(() => (window as any).Tandem.tracker.flush());
    const endedAt = Date.now();
    const stats = await page.evaluate(() => (window as any).Tandem.tracker.stats);
    await page.evaluate(() => (window as any).Tandem.tracker.stop());
    await sleep(300);
    // Long tasks (>= 50 ms) in the page after the first snapshot's task: with only the tracker and a few
    // tiny handlers on this page, any such task is the tracker's or the browser's own.
    const longTasks: { start: number; dur: number }[] = await page.evaluate(() => (window as any).__longtasks);
    const laterLong = longTasks.filter((t) => t.start > startTimes.t2).map((t) => t.dur);
    const snapshotTask = longTasks.filter((t) => t.start <= startTimes.t2 && t.start + t.dur >= startTimes.t1).map((t) => t.dur);
    await context.close();
    await backend.store.flush();

    // ---- wire and raw JSON, from the captured request bodies
    const batches = captured.map(decode).sort((a, b) => a.at - b.at);
    if (process.env.BYTES_DUMP) {
      // The session's batches as sent (decoded), for trying encodings offline (bench/src/bytes-options.ts).
      writeFileSync(process.env.BYTES_DUMP, JSON.stringify(batches.map((b) => ({ at: b.at, wire: b.wire, events: b.events.map((e) => e.json) }))));
      console.log(`[${BENCH}] batches written to ${process.env.BYTES_DUMP}`);
    }
    const unique = new Map<number, { type: number; json: string }>();
    for (const b of batches) for (const e of b.events) unique.set(e.seq, e);
    const rawJson = [...unique.values()].reduce((a, e) => a + Buffer.byteLength(e.json), 0);
    const wireTotal = batches.reduce((a, b) => a + b.wire, 0);
    const snapIdx = batches.findIndex((b) => b.events.some((e) => e.type === 2));
    const snapBatch = batches[snapIdx];
    const after = batches.slice(snapIdx + 1);
    const wireAfter = after.reduce((a, b) => a + b.wire, 0);
    const rawAfter = after.reduce((a, b) => a + b.events.reduce((x, e) => x + Buffer.byteLength(e.json), 0), 0);
    const minutesAfter = (endedAt - (snapBatch?.at ?? startedAt)) / 60_000;
    const perMin = wireAfter / minutesAfter;
    const snapshotEvent = snapBatch?.events.find((e) => e.type === 2);
    // Same-run reference points: the same events gzipped as one stream (what a whole-session
    // compressor could reach) and the post-snapshot events sent as plain JSON.
    const wholeGzip = gzipSync(Buffer.from([...unique.values()].map((e) => e.json).join('\n'))).length;
    const byType = new Map<string, { n: number; bytes: number }>();
    for (const e of unique.values()) {
      const o = JSON.parse(e.json);
      const k = o.type === 3 ? `3/src${o.data?.source}` : o.type === 5 ? `5/${o.data?.tag}` : o.type === 6 ? `6/${o.data?.plugin}` : String(o.type);
      const cur = byType.get(k) ?? { n: 0, bytes: 0 };
      cur.n++;
      cur.bytes += e.json.length;
      byType.set(k, cur);
    }

    // ---- store: events stored, bytes on disk
    const ev = await findEventsTable(backend.store.driver);
    const [cnt] = await backend.store.driver.query(
      `SELECT count() AS n, uniqExact(${ev.seqCol}) AS u, sum(length(${ev.dataCol})) AS data_bytes FROM ${ev.qualified} WHERE ${ev.sessionCol} = {sid:String}`,
      { sid: sessionId },
    );
    const partsBefore = await partsSize(backend.store.driver, ev.database, ev.table);
    await backend.store.driver.command(`OPTIMIZE TABLE ${ev.qualified} FINAL`);
    // Fresh: inserts and merges at ZSTD(3). At rest: what the store does to parts older than
    // recompressAfterMinutes (60 by default, migration 8), applied now the way a changed setting is
    // (the TTL moved by migrate(), then the next merge).
    const partsFresh = await partsSize(backend.store.driver, ev.database, ev.table);
    await createStore(backend.store.driver, { database: ev.database, recompressAfterMinutes: 0 }).migrate();
    await backend.store.driver.command(`OPTIMIZE TABLE ${ev.qualified} FINAL`);
    const partsAfter = await partsSize(backend.store.driver, ev.database, ev.table);
    const cols = await columnSizes(backend.store.driver, ev.database, ev.table);
    const dataCol = cols.find((c) => c.name === ev.dataCol && c.compressed > 0);

    console.log(`[${BENCH}] ${batches.length} batch requests captured (${failed.length} capture problems${failed.length ? `: ${failed.slice(0, 3).join('; ')}` : ''}); tracker stats ${JSON.stringify(stats)}`);
    console.log(`[${BENCH}] events: ${unique.size} unique seqs sent; store holds ${cnt?.n} rows, ${cnt?.u} distinct seqs, ${fmtBytes(Number(cnt?.data_bytes))} of event JSON`);
    console.log(`[${BENCH}] event mix (count, JSON bytes): ${[...byType.entries()].sort((a, b) => b[1].bytes - a[1].bytes).map(([k, v]) => `${k} ${v.n}/${fmtBytes(v.bytes)}`).join(', ')}`);
    console.log(`[${BENCH}] raw JSON ${fmtBytes(rawJson)} (first full snapshot event ${fmtBytes(snapshotEvent ? Buffer.byteLength(snapshotEvent.json) : NaN)}); wire ${fmtBytes(wireTotal)} = ${fmtRatio(wireTotal / rawJson, 3)}; whole-session single gzip stream would be ${fmtBytes(wholeGzip)} = ${fmtRatio(wholeGzip / rawJson, 3)}`);
    console.log(`[${BENCH}] after the first snapshot's batch: ${after.length} batches, ${fmtBytes(wireAfter)} on the wire for ${fmtBytes(rawAfter)} of JSON (${fmtRatio(wireAfter / rawAfter, 3)}) over ${minutesAfter.toFixed(2)} min = ${fmtBytes(perMin)}/min`);
    console.log(`[${BENCH}] batches packed: ${batches.filter((b) => b.packed).length} of ${batches.length}`);
    console.log(`[${BENCH}] on disk (events table, system.parts active): ${partsBefore.parts} parts ${fmtBytes(partsBefore.bytesOnDisk)} before merge; fresh after OPTIMIZE FINAL ${fmtBytes(partsFresh.bytesOnDisk)} = ${fmtRatio(partsFresh.bytesOnDisk / rawJson, 3)}; at rest (recompressed) ${partsAfter.parts} part(s) ${fmtBytes(partsAfter.bytesOnDisk)} (column data compressed ${fmtBytes(partsAfter.dataCompressed)} of ${fmtBytes(partsAfter.dataUncompressed)}${dataCol ? `; \`${ev.dataCol}\` ${fmtBytes(dataCol.compressed)}` : ''})`);

    console.log(`[${BENCH}] long tasks: first snapshot's task ${snapshotTask.length ? `${snapshotTask[0].toFixed(0)} ms` : '< 50 ms'}; after it ${laterLong.length ? laterLong.map((d) => d.toFixed(0)).join(', ') + ' ms' : 'none'}`);
    const lost = unique.size - Number(cnt?.u ?? 0);
    const kb = (b: number) => b / 1024;
    return [
      atMost(
        BENCH,
        `wire after the first snapshot: ${kb(perMin).toFixed(1)} KB/min (${fmtBytes(wireAfter)} in ${after.length} compressed batches (gzip or zlib), ${after.filter((b) => b.packed).length} packed, over ${minutesAfter.toFixed(2)} min; their JSON ${fmtBytes(rawAfter)})`,
        kb(perMin),
        8,
        '≤ 8 KB/min after the first snapshot',
        ' KB/min',
      ),
      atMost(
        BENCH,
        `total wire ${fmtBytes(wireTotal)} / raw JSON ${fmtBytes(rawJson)} = ${fmtRatio(wireTotal / rawJson, 3)} (packed + compressed: ${batches.filter((b) => b.packed).length} of ${batches.length} batches; ${unique.size} events in ${seconds} s incl. a ${fmtBytes(snapshotEvent ? Buffer.byteLength(snapshotEvent.json) : NaN)} full snapshot; one gzip stream over the whole session: ${fmtRatio(wholeGzip / rawJson, 3)})`,
        wireTotal / rawJson,
        0.1,
        'total wire ≤ 0.10× raw JSON',
        '×',
      ),
      {
        bench: 'tracker-overhead (1-min session)',
        figure: `long tasks (≥ 50 ms, Long Tasks API) during the scripted minute after the first snapshot: ${laterLong.length ? `${laterLong.length}, longest ${Math.max(...laterLong).toFixed(0)} ms` : 'none'} (page with the Tandem tracker; the first snapshot's own task: ${snapshotTask.length ? `${snapshotTask[0].toFixed(0)} ms` : '< 50 ms'})`,
        target: 'no tracker task > 50 ms after the first snapshot on a realistic session (DESIGN §10; this is the row judged)',
        met: laterLong.length === 0,
        gap: laterLong.length ? `${laterLong.length} long task(s), longest ${Math.max(...laterLong).toFixed(0)} ms` : undefined,
      },
      atMost(
        BENCH,
        `on disk at rest ${fmtBytes(partsAfter.bytesOnDisk)} / raw JSON ${fmtBytes(rawJson)} = ${fmtRatio(partsAfter.bytesOnDisk / rawJson, 3)} (events table bytes_on_disk, one part, once recompressed with ZSTD(19) — after 60 min by default, applied at once here; fresh, ZSTD(3) after OPTIMIZE FINAL: ${fmtRatio(partsFresh.bytesOnDisk / rawJson, 3)}; ${fmtBytes(partsBefore.bytesOnDisk)} = ${fmtRatio(partsBefore.bytesOnDisk / rawJson, 3)} in ${partsBefore.parts} unmerged parts; compressed column data alone, without per-part files: ${fmtRatio(partsAfter.dataCompressed / rawJson, 3)})${lost > 0 ? `; ${lost} sent events missing from the store` : lost < 0 ? `; the store holds ${-lost} event(s) no captured request carried` : ''}`,
        partsAfter.bytesOnDisk / rawJson,
        0.1,
        'on disk ≤ 0.10× raw JSON',
        '×',
      ),
    ];
  } finally {
    if (!opts.browser) await browser.close().catch(() => {});
    await ingest.close().catch(() => {});
    await server.close();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runBytes());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: 'wire ≤ 8 KB/min after the first snapshot; ≤ 0.10× raw JSON on the wire and on disk', met: null, gap: (err as Error).message }]);
    process.exitCode = 1;
  }
}
