import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionQuery } from '@tandem/protocol';
import { createChdbDriver, createStore, type Driver, type TandemStore } from '../src/index.js';
import { chTime } from '../src/encode.js';
import { eventKeyRow, pageKeyRows, urlKeyRows } from '../src/search-keys.js';

/**
 * The sessions list over *unmerged delta rows* (migration 6: each flush writes a delta, merges combine
 * them eventually), checked against a brute-force answer on the same data. Merges are stopped, so every
 * session keeps 1–4 deltas in different parts, written the ways writers write them: attributes on every
 * delta or only on some ('' elsewhere), the user id set by one delta and changed by a later one, errors
 * in one delta, and durations that no single delta spans (two writers each saw part of the session).
 * The brute force merges with FINAL over the whole table (no windows, no candidate keys) and filters in
 * JavaScript; listSessions must return exactly the same sessions in the same order, page after page.
 */

const dir = mkdtempSync(join(tmpdir(), 'tandem-search-deltas-'));
const DB = 'tandem';
const P = 'p-deltas';
const DAY = 86_400_000;
const NOW = Date.now();
const SESSIONS = 300;
let driver: Driver;
let store: TandemStore;
let queries = 0;

/** Deterministic pseudo-random numbers (mulberry32), so a failure is reproducible. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

interface Child { sessionId: string; url?: string; title?: string; message?: string; name?: string; at: number }
const pages: Child[] = [];
const consoles: Child[] = [];
const customs: Child[] = [];
/** Each session's start: the writer writes the list's keys per page text and event name with it (migration 15). */
const startOf = new Map<string, number>();

type Rows = Record<string, unknown>[];
/**
 * Delta rows per insert round (round r holds each session's r-th delta: different parts), and the
 * `session_attrs` rows a writer writes beside them (migration 10): one with the first delta, another
 * each time the user id changes. The exit URL is a visited page's (the writer sets it only with a visit).
 */
function generate(): { rounds: Rows[]; attrs: Rows[] } {
  const rounds: Rows[] = [[], [], [], []];
  const attrs: Rows[] = [[], [], [], []];
  for (let i = 0; i < SESSIONS; i++) {
    const id = `s-${String(i).padStart(4, '0')}`;
    // Spread over 28 days (within the 30 days of retention: older child partitions would expire), a few
    // sessions sharing a start time (the key's tie-break is the id; half of them with errors: the chart keys
    // error totals by start and must take such starts apart).
    // One in six started in the last two hours, two minutes apart: a burst of near keys (free text's first re-check
    // takes the near ones beyond the page too, search.ts NEAR_MS).
    const spread = i % 25 === 0 ? NOW - 3 * DAY : NOW - Math.floor(rand() * 28 * DAY);
    const startedAt = i % 6 === 1 && i % 25 !== 0 ? NOW - 2 * 3_600_000 + i * 20_000 : spread;
    startOf.set(id, startedAt);
    const browser = pick(['Chrome', 'Firefox', 'Safari', 'Samsung Internet']);
    const os = pick(['Windows 10', 'macOS', 'iOS', 'Android']);
    const device = pick(['desktop', 'mobile', 'tablet']);
    const firstUrl = `https://shop.test/${pick(['home', 'pricing', 'blog/1', 'blog/2', 'products/7'])}`;
    const length = Math.floor(rand() * 40 * 60_000);
    const deltas = 1 + Math.floor(rand() * 4);
    // Some pages' clocks run behind the server's: the first event 5 min before the start (the minimum-duration
    // key step's second branch, search-filters.ts REACH); others' first event comes 2 min after it.
    const skew = i % 23 === 0 ? -5 * 60_000 : i % 29 === 0 ? 2 * 60_000 : 0;
    const users = [null, null, `user-${i % 37}`, `user-${(i * 7) % 41}`];
    let user = '';
    for (let d = 0; d < deltas; d++) {
      // Delta d saw [lo, hi] of the session; a later writer may not know the first event (lo > 0).
      const lo = d === 0 ? 0 : Math.floor((length * d) / (deltas + 1));
      const hi = Math.floor((length * (d + 1)) / deltas);
      const knowsAttributes = d === 0 || rand() < 0.7;
      const userId = d === 0 ? null : pick(users);
      const lastUrl = d === deltas - 1 ? `https://shop.test/${pick(['done', 'cart', 'checkout'])}` : null;
      if (lastUrl) pages.push({ sessionId: id, url: lastUrl, title: '', at: startedAt + hi });
      if (d === 0 || (userId !== null && userId !== user)) {
        user = userId ?? user;
        attrs[d].push({
          project_id: P, session_id: id, version: d + 1, updated_at: chTime(startedAt + hi), started_at: chTime(startedAt),
          visitor_id: `v-${i % 50}`, user_id: user, first_url: firstUrl, user_agent: '', browser, browser_version: '120',
          os, device, screen: '', country: '',
        });
      }
      rounds[d].push({
        project_id: P, session_id: id, version: d + 1, updated_at: chTime(startedAt + hi),
        visitor_id: knowsAttributes ? `v-${i % 50}` : '', user_id: userId,
        started_at: chTime(startedAt), first_event_at: chTime(startedAt + lo + skew), last_event_at: chTime(startedAt + hi + Math.max(skew, 0)),
        first_url: knowsAttributes ? firstUrl : '', last_url: lastUrl,
        referrer: '', page_count: 1, event_count: 10 + d, error_count: rand() < 0.15 || (i % 50 === 0 && d === 0) ? 1 + d : 0, console_error_count: 0, click_count: d,
        tab_ids: [`t${d % 2}`], user_agent: '', browser: knowsAttributes ? browser : '', browser_version: '120',
        os: knowsAttributes ? os : '', device: knowsAttributes ? device : '', screen: '', language: '', timezone: '', country: '',
      });
    }
    const at = startedAt + 1000;
    if (rand() < 0.3) pages.push({ sessionId: id, url: `https://shop.test/${pick(['cart', 'checkout', 'blog/3'])}`, title: pick(['Cart', 'Order confirmed', 'Blog']), at });
    if (rand() < 0.3) consoles.push({ sessionId: id, message: pick(['Payment declined by issuer', 'issuer ready', 'hello']), at });
    if (rand() < 0.2) customs.push({ sessionId: id, name: pick(['coupon_applied', 'purchase']), at });
  }
  return { rounds, attrs };
}

const child = (c: Child, seq: number) => ({
  project_id: P, session_id: c.sessionId, tab_id: 't0', seq, ts: chTime(c.at), received_at: chTime(c.at).slice(0, 19),
});

beforeAll(async () => {
  const raw = createChdbDriver(dir);
  // Counts the queries a listing costs (one page must stay a handful of queries).
  driver = { ...raw, query: async (sql, params) => ((queries += 1), raw.query(sql, params)) } as Driver;
  store = createStore(driver, { database: DB });
  await store.migrate();
  for (const table of ['sessions', 'session_search', 'session_attrs']) await driver.command(`SYSTEM STOP MERGES ${DB}.${table}`);
  const { rounds, attrs } = generate();
  for (const round of rounds) if (round.length) await driver.insert(`${DB}.sessions`, round);
  for (const round of attrs) if (round.length) await driver.insert(`${DB}.session_attrs`, round);
  await driver.insert(`${DB}.page_visits`, pages.map((c, i) => ({ ...child(c, i), url: c.url, title: c.title, referrer: '', via: 'pushState' })));
  await driver.insert(`${DB}.console_logs`, consoles.map((c, i) => ({ ...child(c, i), level: 'log', message: c.message, trace: '' })));
  await driver.insert(`${DB}.custom_events`, customs.map((c, i) => ({ ...child(c, i), name: c.name, payload: '{}' })));
  // The list's keys as the writer writes them (search-keys.ts): per visited page text, per landing URL (with the
  // session_attrs row; here not a page visit) and per custom event name; per visited and landing URL (url_keys).
  const start = (id: string) => startOf.get(id) ?? 0;
  await driver.insert(`${DB}.page_keys`, [...pages.flatMap((c) => pageKeyRows(P, c.sessionId, start(c.sessionId), [c.url ?? '', c.title ?? ''])),
    ...attrs.flat().flatMap((a) => pageKeyRows(P, String(a.session_id), start(String(a.session_id)), [String(a.first_url)]))]);
  await driver.insert(`${DB}.url_keys`, [...pages.flatMap((c) => urlKeyRows(P, c.sessionId, start(c.sessionId), c.url ?? '', 1)),
    ...attrs.flat().flatMap((a) => urlKeyRows(P, String(a.session_id), start(String(a.session_id)), String(a.first_url), 0))]);
  await driver.insert(`${DB}.event_keys`, customs.map((c) => eventKeyRow(P, c.sessionId, start(c.sessionId), c.name ?? '')));
}, 120_000);

afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Truth { id: string; started: number; user: string; visitor: string; first: string; last: string; browser: string; os: string; device: string; errors: number; duration: number }

/** Every session merged by FINAL over the whole table: what the list must agree with. */
async function everySession(): Promise<Truth[]> {
  const rows = await driver.query<Record<string, string | number>>(
    `SELECT session_id, toUnixTimestamp64Milli(started_at) AS s, ifNull(user_id, '') AS u, visitor_id, first_url, ifNull(last_url, '') AS l,
       browser, os, device, error_count, duration_ms FROM ${DB}.session_search FINAL WHERE project_id = {p:String}`, { p: P });
  return rows.map((r) => ({
    id: String(r.session_id), started: Number(r.s), user: String(r.u), visitor: String(r.visitor_id), first: String(r.first_url),
    last: String(r.l), browser: String(r.browser), os: String(r.os), device: String(r.device), errors: Number(r.error_count), duration: Number(r.duration_ms),
  }));
}

const has = (s: string | undefined, needle: string) => !!s && s.toLowerCase().includes(needle.toLowerCase());
const starts = (s: string, needle: string) => s.toLowerCase().startsWith(needle.toLowerCase());
const childOf = (rows: Child[], ok: (c: Child) => boolean) => new Set(rows.filter(ok).map((c) => c.sessionId));

function bruteForce(all: Truth[], q: SessionQuery): string[] {
  const visited = q.url ? childOf(pages, (c) => has(c.url, q.url!)) : null;
  const logged = q.console ? childOf(consoles, (c) => has(c.message, q.console!)) : null;
  const tracked = q.event ? childOf(customs, (c) => c.name!.toLowerCase() === q.event!.toLowerCase()) : null;
  const paged = q.page ? childOf(pages, (c) => has(c.url, q.page!) || has(c.title, q.page!)) : null;
  return all.filter((s) =>
    (q.from === undefined || s.started >= q.from) && (q.to === undefined || s.started <= q.to)
    && (!q.userId || s.user === q.userId)
    && (!q.url || has(s.first, q.url) || has(s.last, q.url) || visited!.has(s.id))
    && (!q.q || [s.user, s.first, s.last, s.browser, s.os, s.device].some((v) => has(v, q.q!)) || s.id === q.q || s.visitor === q.q)
    && (!q.hasErrors || s.errors > 0)
    && (q.minDuration === undefined || s.duration >= q.minDuration) && (q.maxDuration === undefined || s.duration <= q.maxDuration)
    && (!q.browser || starts(s.browser, q.browser)) && (!q.os || starts(s.os, q.os)) && (!q.device || starts(s.device, q.device))
    && (!logged || logged.has(s.id)) && (!tracked || tracked.has(s.id)) && (!paged || paged.has(s.id)))
    .sort((a, b) => b.started - a.started || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0))
    .map((s) => s.id);
}

/** Every page of listSessions for `q`, following the cursor. */
async function listAll(q: SessionQuery): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const before = queries;
    const page = await store.listSessions(P, { ...q, cursor, limit: q.limit ?? 200 });
    // Windows widen from what they found: a page that cannot be filled once crawled back a day at a time.
    expect(queries - before).toBeLessThanOrEqual(16);
    ids.push(...page.sessions.map((s) => s.sessionId));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
}

describe('listSessions over unmerged delta rows equals a brute-force merge of the same data', () => {
  const cases: [string, SessionQuery][] = [
    ['everything', {}],
    ['errors', { hasErrors: true }],
    ['duration ≥ 20 min (spanned by no single delta for many)', { minDuration: 20 * 60_000 }],
    ['duration 5–15 min', { minDuration: 5 * 60_000, maxDuration: 15 * 60_000 }],
    ['browser + errors + duration', { browser: 'samsung', hasErrors: true, minDuration: 10 * 60_000 }],
    // session_facets (migration 16) answers these: attribute ranges plus the '' range (deltas that did not know them).
    ['OS + errors (facets)', { os: 'android', hasErrors: true }],
    ['device + duration range (facets; a maximum needs every delta)', { device: 'tablet', minDuration: 5 * 60_000, maxDuration: 25 * 60_000 }],
    ['browser + duration in a time range (facets)', { browser: 'FireFox', minDuration: 10 * 60_000, from: NOW - 20 * DAY, to: NOW - DAY }],
    ['browser and OS + errors (facets)', { browser: 'chrome', os: 'mac', hasErrors: true }],
    ['errors + duration (clocks behind and ahead of the start)', { hasErrors: true, minDuration: 12 * 60_000 }],
    ['duration ≥ 36 min (a few only by a clock behind)', { minDuration: 36 * 60_000 }],
    ['OS prefix and device', { os: 'windows', device: 'desktop' }],
    ['user id (the newest one only)', { userId: 'user-3' }],
    ['user id, rare', { userId: 'user-40' }],
    ['URL (landing, exit or visited)', { url: 'checkout' }],
    ['URL, rare', { url: 'blog/2' }],
    ['free text', { q: 'user-1' }],
    ['free text: session id', { q: 's-0123' }],
    ['free text: no match', { q: 'zzqx' }],
    ['free text: a landing URL that is no page visit (its page key)', { q: 'PRICING' }],
    ['free text: an exit URL (a visited page; other visits of it are no match)', { q: 'checkout' }],
    ['free text: upper case, LIKE wildcards taken literally', { q: 'USER-1' }],
    ['free text: a needle with % and _ matches nothing here', { q: 'user_1%' }],
    ['free text over a burst of near sessions, small pages', { q: 'checkout', limit: 10 }],
    ['free text over a burst, another needle', { q: 'cart', limit: 5 }],
    ['free text with another attribute (one OR over session_attrs, not the sources apart)', { q: 'user-1', browser: 'chrome' }],
    ['free text with a counter', { q: 'checkout', hasErrors: true }],
    ['console text', { console: 'issuer' }],
    ['custom event', { event: 'PURCHASE' }],
    ['visited page by title', { page: 'order confirmed' }],
    ['page + errors + user prefix of OS', { page: 'cart', hasErrors: true, os: 'i' }],
    ['time range', { from: NOW - 10 * DAY, to: NOW - 2 * DAY }],
    ['time range + browser', { from: NOW - 20 * DAY, browser: 'firefox' }],
  ];
  for (const [name, q] of cases) {
    it(name, async () => {
      const expected = bruteForce(await everySession(), q);
      expect(await listAll(q)).toEqual(expected);
      // Small pages (a cursor every 25 rows) give the same sequence.
      expect(await listAll({ ...q, limit: 25 })).toEqual(expected);
    }, 120_000);
  }

  // Free text's key tables (search-texts.ts) with tiny limits: the needle's texts read through the subquery (more texts
  // than the literal limit), its keys "many" (a day first), and both as before this (TANDEM_SEARCH_TEXTS_ONCE=0, the
  // session_attrs scan: TANDEM_SEARCH_ATTR_KEYS=0).
  for (const [name, q] of cases.filter(([n]) => n.startsWith('free text'))) {
    it(`${name}, every free-text path`, async () => {
      const expected = bruteForce(await everySession(), q);
      for (const env of [{ TANDEM_SEARCH_TEXT_LIMITS: '1,1000' }, { TANDEM_SEARCH_TEXT_LIMITS: '1000,2' }, { TANDEM_SEARCH_TEXTS_ONCE: '0' },
        { TANDEM_SEARCH_ATTR_KEYS: '0' }] as Record<string, string>[]) {
        Object.assign(process.env, env);
        try {
          expect(await listAll(q)).toEqual(expected);
          expect(await listAll({ ...q, limit: 10 })).toEqual(expected);
        } finally {
          for (const k of Object.keys(env)) delete process.env[k];
        }
      }
    }, 120_000);
  }

  // session_facets' windows for a common browser/OS/device (search.ts facetEstimate): with tiny row limits these few
  // sessions are "common", so the first window is a day and a wide one switches to the delta rows' path (keys carried).
  for (const [name, q] of cases.filter(([n]) => n.includes('facets') || n.startsWith('browser + errors + duration'))) {
    it(`${name}, session_facets' day-first windows and the switch to the delta rows`, async () => {
      const expected = bruteForce(await everySession(), q);
      for (const limits of ['5,40', '5,1000000']) {
        process.env.TANDEM_SEARCH_FACET_ROWS = limits;
        try {
          expect(await listAll(q)).toEqual(expected);
          expect(await listAll({ ...q, limit: 10 })).toEqual(expected);
        } finally {
          delete process.env.TANDEM_SEARCH_FACET_ROWS;
        }
      }
    }, 120_000);
  }

  const statsCases: [string, SessionQuery][] = [
    ['everything', {}], ['errors', { hasErrors: true }], ['browser + errors', { browser: 'safari', hasErrors: true }],
    ['browser (errors counted per session where starts tie)', { browser: 'chrome' }], ['browser + errors, another', { browser: 'firefox', hasErrors: true }],
    ['user id (the newest one only)', { userId: 'user-3' }], ['OS prefix and device', { os: 'windows', device: 'desktop' }],
    ['custom event + time range', { event: 'purchase', from: NOW - 20 * DAY }], ['visited page', { page: 'cart' }],
    ['URL (the FINAL path)', { url: 'checkout' }], ['duration (the FINAL path)', { minDuration: 20 * 60_000 }],
  ];
  for (const [name, q] of statsCases) {
    it(`per-day stats: ${name}`, async () => {
      const all = await everySession();
      const ids = new Set(bruteForce(all, q));
      const expected = new Map<string, { sessions: number; sessionsWithErrors: number; errors: number }>();
      for (const s of all.filter((x) => ids.has(x.id))) {
        const d = expected.get(new Date(s.started).toISOString().slice(0, 10)) ?? { sessions: 0, sessionsWithErrors: 0, errors: 0 };
        (d.sessions += 1), (d.sessionsWithErrors += s.errors > 0 ? 1 : 0), (d.errors += s.errors);
        expected.set(new Date(s.started).toISOString().slice(0, 10), d);
      }
      const { days } = await store.sessionStats(P, { ...q, tz: 'UTC' });
      const got = new Map(days.filter((d) => d.sessions > 0 || d.errors > 0).map(({ day, ...rest }) => [day, rest]));
      expect(got).toEqual(expected);
    }, 60_000);
  }

  it('a browser/OS/device with counters reads its keys from session_facets, not the delta rows of session_search', async () => {
    const sent: string[] = [];
    const raw = driver.query.bind(driver);
    const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => (sent.push(sql), raw(sql, params)) } as Driver;
    const search = createStore(traced, { database: DB });
    const q: SessionQuery = { browser: 'samsung', hasErrors: true, minDuration: 10 * 60_000 };
    const page = await search.listSessions(P, q);
    expect(page.sessions.map((s) => s.sessionId)).toEqual(bruteForce(await everySession(), q).slice(0, 50));
    expect(sent.some((x) => /FROM tandem\.session_facets\b/.test(x) && x.includes('GROUP BY started_at, sid'))).toBe(true);
    // The key step groups no deltas of session_search (the re-check's FINAL read of the keys is the only one).
    expect(sent.filter((x) => /FROM tandem\.session_search\b/.test(x)).every((x) => x.includes('FINAL'))).toBe(true);
  });

  it('a facet query\'s index estimate is asked once a minute per store and terms, not at every call (same answers)', async () => {
    const q: SessionQuery = { browser: 'samsung', hasErrors: true, minDuration: 10 * 60_000 };
    const expected = bruteForce(await everySession(), q).slice(0, 50);
    const estimates = async () => {
      let n = 0;
      const raw = driver.query.bind(driver);
      const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => ((n += sql.startsWith('EXPLAIN ESTIMATE') ? 1 : 0), raw(sql, params)) } as Driver;
      const search = createStore(traced, { database: DB });
      for (const query of [q, q, { ...q, os: 'android' }, q]) {
        const page = await search.listSessions(P, query);
        if (query === q) expect(page.sessions.map((s) => s.sessionId)).toEqual(expected);
      }
      return n;
    };
    expect(await estimates()).toBe(2); // q, then the other terms
    process.env.TANDEM_SEARCH_ESTIMATE_CACHE = '0';
    try {
      expect(await estimates()).toBe(4);
    } finally {
      delete process.env.TANDEM_SEARCH_ESTIMATE_CACHE;
    }
  });

  it('a query asked again within a minute starts with the span its last call needed (same answers, no day probe)', async () => {
    // A rare needle (a few sessions over 28 days): a day first, then the rest; asked again, one window over the rest.
    const q: SessionQuery = { q: 'user-12' };
    const expected = bruteForce(await everySession(), q).slice(0, 50);
    expect(expected.length).toBeGreaterThan(0);
    const keyReads = async () => {
      const counts: number[] = [];
      let n = 0;
      const raw = driver.query.bind(driver);
      const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) =>
        ((n += sql.startsWith('SELECT s_ms') ? 1 : 0), raw(sql, params)) } as Driver; // the key steps (not the texts matched)
      const search = createStore(traced, { database: DB });
      for (let i = 0; i < 2; i++) {
        n = 0;
        expect((await search.listSessions(P, q)).sessions.map((s) => s.sessionId)).toEqual(expected);
        counts.push(n);
      }
      return counts;
    };
    // Free text with few keys reads its whole range at once (next test): here the day first, as for any other needle.
    process.env.TANDEM_SEARCH_TEXT_WHOLE = '0';
    try {
      const [first, again] = await keyReads();
      expect(first).toBeGreaterThanOrEqual(2);
      expect(again).toBe(1);
      process.env.TANDEM_SEARCH_SPAN_CACHE = '0';
      expect(await keyReads()).toEqual([first, first]);
    } finally {
      delete process.env.TANDEM_SEARCH_SPAN_CACHE;
      delete process.env.TANDEM_SEARCH_TEXT_WHOLE;
    }
  });

  it('free text with few keys reads them in one window on its first call, from the key tables, not session_attrs\' text columns', async () => {
    // A rare needle (user ids, a few sessions over 28 days): the day first took two key reads on every first call.
    const sent: string[] = [];
    const raw = driver.query.bind(driver);
    const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => (sent.push(sql), raw(sql, params)) } as Driver;
    const keyReads = () => sent.filter((x) => x.startsWith('SELECT s_ms')).length;
    for (const q of [{ q: 'user-12' }, { q: 'USER-3' }, { q: 's-0123' }, { q: 'zzqx' }]) {
      const expected = bruteForce(await everySession(), q).slice(0, 50);
      for (const whole of [true, false]) {
        if (!whole) process.env.TANDEM_SEARCH_TEXT_WHOLE = '0';
        try {
          sent.length = 0;
          const search = createStore(traced, { database: DB });
          expect((await search.listSessions(P, q)).sessions.map((s) => s.sessionId)).toEqual(expected);
          if (whole) expect(keyReads()).toBe(1);
          else expect(keyReads()).toBeGreaterThanOrEqual(2);
          // The user id, browser, OS and device by their distinct texts (attr_texts), their keys by primary key (attr_keys).
          expect(sent.some((x) => x.includes('lowerUTF8(user_id)'))).toBe(false);
          expect(sent.some((x) => x.includes('attr_texts'))).toBe(true);
        } finally {
          delete process.env.TANDEM_SEARCH_TEXT_WHOLE;
        }
      }
    }
  });

  it('a dense query asked again reads back hours, not the first window\'s day (same answers)', async () => {
    const q: SessionQuery = { limit: 3 };
    const expected = bruteForce(await everySession(), q).slice(0, 3);
    const raw = driver.query.bind(driver);
    const los: number[] = [];
    const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => {
      if (!sql.includes('FINAL') && params?.lo !== undefined) los.push(Number(params.lo));
      return raw(sql, params);
    } } as Driver;
    const search = createStore(traced, { database: DB });
    for (let i = 0; i < 2; i++) expect((await search.listSessions(P, q)).sessions.map((s) => s.sessionId)).toEqual(expected);
    expect(los).toHaveLength(2);
    expect(Date.now() - los[0]).toBeGreaterThan(DAY - 60_000);
    // The burst's newest three started within the last two hours: a quarter over that, not a day.
    expect(Date.now() - los[1]).toBeLessThan(3 * 3_600_000);
  });

  it('a facet query asked again reads session_facets back only as far as its last page needed (same answers)', async () => {
    const q: SessionQuery = { browser: 'samsung', hasErrors: true, limit: 2 };
    const expected = bruteForce(await everySession(), q).slice(0, 2);
    expect(expected.length).toBe(2);
    // How far back each call's first session_facets read reaches (ms before now).
    const reach = async () => {
      const spans: number[] = [];
      const raw = driver.query.bind(driver);
      const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => {
        if (/^SELECT .* FROM tandem\.session_facets/s.test(sql.trim()) && params?.lo !== undefined) spans.push(Date.now() - Number(params.lo));
        return raw(sql, params);
      } } as Driver;
      const search = createStore(traced, { database: DB });
      const firsts: number[] = [];
      for (let i = 0; i < 2; i++) {
        spans.length = 0;
        expect((await search.listSessions(P, q)).sessions.map((s) => s.sessionId)).toEqual(expected);
        firsts.push(spans[0]);
      }
      return firsts;
    };
    const [first, again] = await reach();
    expect(first).toBeGreaterThan(34 * DAY); // one 35-day window of few facet rows
    expect(again).toBeLessThan(first - DAY);
    process.env.TANDEM_SEARCH_SPAN_CACHE = '0';
    try {
      const [a, b] = await reach();
      expect(b).toBeGreaterThan(a - 60_000);
    } finally {
      delete process.env.TANDEM_SEARCH_SPAN_CACHE;
    }
  });

  it('a common browser/OS/device asked again: one window of its known span, or the delta rows from the start', async () => {
    const q: SessionQuery = { browser: 'chrome', hasErrors: true, limit: 2 };
    const expected = bruteForce(await everySession(), q).slice(0, 2);
    expect(expected.length).toBe(2);
    // Per call: the key reads of session_facets and of the delta rows (not the estimate, not the FINAL re-check).
    const reads = async (limits: string) => {
      const calls: { facets: number; deltas: number }[] = [];
      let now = { facets: 0, deltas: 0 };
      const raw = driver.query.bind(driver);
      const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => {
        if (!sql.startsWith('EXPLAIN') && !sql.includes('FINAL')) {
          if (sql.includes('tandem.session_facets')) now.facets++;
          else if (sql.includes('tandem.session_search')) now.deltas++;
        }
        return raw(sql, params);
      } } as Driver;
      const search = createStore(traced, { database: DB });
      process.env.TANDEM_SEARCH_FACET_ROWS = limits;
      try {
        for (let i = 0; i < 2; i++) {
          now = { facets: 0, deltas: 0 };
          expect((await search.listSessions(P, q)).sessions.map((s) => s.sessionId)).toEqual(expected);
          calls.push(now);
        }
      } finally {
        delete process.env.TANDEM_SEARCH_FACET_ROWS;
      }
      return calls;
    };
    // "Common" by tiny limits, never switching: a day first, then wider windows; again: one window.
    const [first, again] = await reads('5,1000000');
    expect(first.facets).toBeGreaterThanOrEqual(2);
    expect(again).toEqual({ facets: 1, deltas: 0 });
    // Switching at 40 facet rows: the day of facet rows, then the delta rows; again: the delta rows from the start.
    const [before, after] = await reads('5,40');
    expect(before.facets).toBeGreaterThanOrEqual(1);
    expect(before.deltas).toBeGreaterThan(0);
    expect(after.facets).toBe(0);
    expect(after.deltas).toBeGreaterThan(0);
  });

  it('without an index estimate (it fails, or gives no row) the delta rows answer a browser with counters', async () => {
    const q: SessionQuery = { browser: 'samsung', hasErrors: true, minDuration: 10 * 60_000 };
    const expected = bruteForce(await everySession(), q).slice(0, 50);
    for (const estimate of [() => Promise.reject(new Error('EXPLAIN ESTIMATE is not supported here')), () => Promise.resolve([])]) {
      const sent: string[] = [];
      const raw = driver.query.bind(driver);
      const traced = { ...driver, query: async (sql: string, params?: Record<string, unknown>) => (sent.push(sql),
        sql.startsWith('EXPLAIN ESTIMATE') ? estimate() : raw(sql, params)) } as Driver;
      const page = await createStore(traced, { database: DB }).listSessions(P, q);
      expect(page.sessions.map((s) => s.sessionId)).toEqual(expected);
      expect(sent.some((x) => x.includes('session_facets') && !x.startsWith('EXPLAIN'))).toBe(false);
    }
  });

  it('the data really is unmerged, and some durations are spanned by no single delta', async () => {
    const [parts] = await driver.query<{ rows: number | string; sessions: number | string }>(
      `SELECT count() AS rows, uniqExact(session_id) AS sessions FROM ${DB}.session_search WHERE project_id = {p:String}`, { p: P });
    expect(Number(parts.sessions)).toBe(SESSIONS);
    expect(Number(parts.rows)).toBeGreaterThan(SESSIONS * 2);
    const [spans] = await driver.query<{ n: number | string }>(
      `SELECT count() AS n FROM (SELECT session_id,
         max(toUnixTimestamp64Milli(last_event_at)) - min(toUnixTimestamp64Milli(first_event_at)) AS merged,
         max(toUnixTimestamp64Milli(last_event_at) - toUnixTimestamp64Milli(first_event_at)) AS widest
       FROM ${DB}.session_search WHERE project_id = {p:String} GROUP BY session_id HAVING merged > widest)`, { p: P });
    expect(Number(spans.n)).toBeGreaterThan(20);
  });

  it('the sessions list shows the merged values (summed counters, newest user id, every tab)', async () => {
    const all = await everySession();
    const withErrors = all.filter((s) => s.errors > 0).length;
    expect(withErrors).toBeGreaterThan(10);
    const listed = new Map((await store.listSessions(P, { limit: 200 })).sessions.map((s) => [s.sessionId, s]));
    for (const truth of all.sort((a, b) => b.started - a.started).slice(0, 50)) {
      const s = listed.get(truth.id);
      expect(s, truth.id).toBeDefined();
      expect([s!.userId, s!.errorCount, s!.durationMs, s!.browser, s!.firstUrl]).toEqual([truth.user, truth.errors, truth.duration, truth.browser, truth.first]);
    }
  });

  // Last: it writes deltas again. session_facets merges by max/min only, so a retried flush (the same delta twice)
  // leaves its answers exact; summed counters in `sessions` double, which the brute force (session_search) shows too.
  it('a delta inserted twice (a retried flush) leaves the facet answers exact', async () => {
    const [first] = await driver.query<Record<string, unknown>>(
      `SELECT count() AS n FROM ${DB}.session_facets`);
    const again = await driver.query<Record<string, unknown>>(
      `SELECT project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at, last_event_at, first_url, last_url,
         page_count, event_count, error_count, console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device,
         screen, country FROM ${DB}.session_search WHERE project_id = {p:String} AND error_count > 0 ORDER BY started_at LIMIT 40`, { p: P });
    await driver.insert(`${DB}.sessions`, again);
    const [second] = await driver.query<Record<string, unknown>>(`SELECT count() AS n FROM ${DB}.session_facets`);
    // More rows (a block's repeats of one key collapse on insert; merges are stopped): the copies are there, unmerged.
    expect(Number(second.n)).toBeGreaterThan(Number(first.n) + 20);
    for (const q of [{ browser: 'samsung', hasErrors: true, minDuration: 10 * 60_000 }, { os: 'android', hasErrors: true },
      { device: 'tablet', minDuration: 5 * 60_000, maxDuration: 25 * 60_000 }] as SessionQuery[]) {
      expect(await listAll(q)).toEqual(bruteForce(await everySession(), q));
    }
  }, 120_000);
});
