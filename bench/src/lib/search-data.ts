/**
 * Generated sessions for the search bench, written straight into ClickHouse with `INSERT … SELECT` from
 * `numbers()`: every value is a hash of the session number, so the engine builds the rows in parallel
 * and nothing crosses into JavaScript. This is why it is fast (1M sessions and ~15M child rows in about a
 * minute here) where the writer would need events, JSON and a flush per group (~50k events/s: hours).
 *
 * Shape (per session, from hashes of its number): started in the last `days` days (server clock);
 * ~45 % identified (50,000 distinct users); browser/OS/device in realistic shares; 1–8 page visits over
 * ~2,000 distinct paths (products, categories, search, checkout funnel, blog); 0–12 console lines from
 * ~30 templates with ids in them; 0–4 custom events over ~40 common names plus a long tail; 9 % with
 * 1–3 errors; a second `sessions` version for the newest 2 % (sessions still being written). Child
 * rows' `received_at` follows the session's start (the server clock: the partition and TTL key).
 */
export interface SearchDataShape {
  sessions: number;
  days: number;
  /** The newest start, ms since epoch (the generator's "now"). */
  now: number;
  projectId: string;
}

interface Sql {
  command(sql: string): Promise<void>;
}

const H = (n: string, k: number) => `sipHash64(${n}, ${k})`;

/** SQL expressions of session `n` (a UInt64 expression), shared by the session row and its children. */
export function sessionExprs(shape: SearchDataShape, n = 'number') {
  const spanMs = shape.days * 86_400_000;
  return {
    id: `lower(hex(sipHash128(${n}, 'tandem-search')))`,
    startedMs: `toInt64(${shape.now} - (${H(n, 1)} % ${spanMs}))`,
    // Mostly short, with a long tail: min of two uniform draws skews low (median ≈ 4 min of 30).
    durationMs: `least(${H(n, 2)} % 1800000, ${H(n, 3)} % 1800000) + 2000`,
    pageCount: `toUInt32(1 + ${H(n, 4)} % 8)`,
    consoleCount: `toUInt32(${H(n, 5)} % 13)`,
    customCount: `toUInt32(${H(n, 6)} % 5)`,
    errorCount: `toUInt32(if(${H(n, 7)} % 100 < 9, 1 + ${H(n, 8)} % 3, 0))`,
  };
}

const PAGE_PATHS = `['/', '/products/', '/category/', '/search?q=', '/cart', '/checkout/shipping', '/checkout/payment',
  '/checkout/confirm', '/account/orders', '/blog/', '/help/', '/products/', '/products/', '/category/']`;
const WORDS = `['shoes', 'jacket', 'lamp', 'sofa', 'kettle', 'headphones', 'backpack', 'watch', 'camera', 'desk',
  'chair', 'mug', 'blanket', 'tent', 'bike', 'helmet', 'guitar', 'printer', 'router', 'speaker']`;
/** URL of page `i` of session `n`: the first page is the landing page, the funnel pages are rarer. */
const pageUrl = (n: string, i: string, alias: string) => `concat('https://shop.example.com',
  arrayElement(${PAGE_PATHS}, 1 + toUInt32(sipHash64(${n}, toUInt64(${i}), 11) % 14)) AS ${alias},
  multiIf(${alias} IN ('/products/', '/category/', '/blog/', '/help/'), toString(sipHash64(${n}, toUInt64(${i}), 12) % 1500),
          ${alias} = '/search?q=', arrayElement(${WORDS}, 1 + toUInt32(sipHash64(${n}, toUInt64(${i}), 13) % 20)), ''))`;

const CONSOLE_TEMPLATES = `['Loaded product ', 'Cart updated, items: ', 'Analytics ready in ms: ', 'Rendered list of rows: ',
  'Warning: deprecated API setCookie called from widget ', 'fetch /api/orders failed with status ', 'Image lazy-loaded: hero-',
  'Experiment bucket assigned: exp-', 'User clicked recommendation #', 'Service worker registered, scope v',
  'Payment declined by issuer, code ', 'Coupon rejected: code expired ', 'Slow frame detected, ms: ', 'Socket reconnect attempt ',
  'Search returned results: ', 'Form validation failed on field zip-', 'Added to wishlist: product ', 'Locale loaded: en-',
  'Stripe element mounted id ', 'Uncaught (in promise) TimeoutError after ms: ', 'Hydration took ms: ', 'Prefetching route /p/',
  'Feature flag new-checkout = ', 'Video player ready, source ', 'Consent banner dismissed after s: ', 'Retrying request #',
  'Chat widget loaded in ms: ', 'Shipping estimate for zip ', 'Recommendations model v', 'Scroll depth reached %: ']`;
const EVENT_NAMES = `['signup', 'login', 'add_to_cart', 'remove_from_cart', 'checkout_started', 'purchase', 'coupon_applied',
  'video_play', 'video_complete', 'search', 'filter_applied', 'newsletter_subscribed', 'wishlist_add', 'review_submitted',
  'share_clicked', 'chat_opened', 'support_ticket', 'plan_upgraded', 'plan_downgraded', 'invite_sent', 'export_csv',
  'onboarding_step', 'onboarding_done', 'tour_skipped', 'payment_failed', 'address_added', 'gift_card_redeemed',
  'size_guide_opened', 'compare_products', 'store_locator', 'language_changed', 'currency_changed', 'dark_mode',
  'notification_enabled', 'app_banner_clicked', 'referral_link_copied', 'quiz_completed', 'survey_answered',
  'abandoned_cart_email', 'subscription_paused']`;

/** A `sessions` version for every session matching `where` (a WHERE over `number`, or ''). */
function sessionRowStatement(db: string, shape: SearchDataShape, version: number, where: string): string {
  const e = sessionExprs(shape);
  const p = `'${shape.projectId}'`;
  const ts = (offsetMs: string) => `fromUnixTimestamp64Milli(${e.startedMs} + ${offsetMs}, 'UTC')`;
  return `
    INSERT INTO ${db}.sessions (project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
      ended_at, duration_ms, first_url, last_url, referrer, page_count, event_count, error_count, console_error_count,
      click_count, tab_ids, tab_count, user_agent, browser, browser_version, os, device, screen, language, timezone, country)
    SELECT ${p}, ${e.id}, ${version}, ${ts(e.durationMs)}, concat('v-', toString(${H('number', 20)} % 300000)),
      if(${H('number', 21)} % 100 < 45, concat('user-', toString(${H('number', 22)} % 50000)), ''),
      ${ts('0')}, ${ts('0')}, ${ts(e.durationMs)}, ${e.durationMs},
      ${pageUrl('number', '0', 'first_path')}, ${pageUrl('number', `${e.pageCount} - 1`, 'last_path')}, '',
      ${e.pageCount}, 40 * ${version} + ${H('number', 23)} % 4000, ${e.errorCount}, toUInt32(${H('number', 24)} % 3 = 0),
      toUInt32(${H('number', 25)} % 60), ['tab-1'], 1, '',
      multiIf(${H('number', 26)} % 100 < 64, 'Chrome', ${H('number', 26)} % 100 < 82, 'Safari', ${H('number', 26)} % 100 < 90, 'Firefox',
              ${H('number', 26)} % 100 < 96, 'Edge', 'Samsung Internet'),
      toString(100 + ${H('number', 27)} % 30),
      multiIf(${H('number', 28)} % 100 < 38, 'Windows', ${H('number', 28)} % 100 < 58, 'macOS', ${H('number', 28)} % 100 < 78, 'iOS',
              ${H('number', 28)} % 100 < 96, 'Android', 'Linux'),
      multiIf(${H('number', 29)} % 100 < 55, 'desktop', ${H('number', 29)} % 100 < 93, 'mobile', 'tablet'),
      '1280x720', 'en-US', 'Europe/Paris', ''
    FROM numbers(${shape.sessions}) ${where}`;
}

/**
 * A new `version` of the newest 2 % of sessions (those still being written): what the writer leaves
 * until merges collapse them, so FINAL has real work to do when the bench measures.
 */
export function touchStatement(db: string, shape: SearchDataShape, version: number): string {
  const e = sessionExprs(shape);
  return sessionRowStatement(db, shape, version, `WHERE ${e.startedMs} > ${shape.now - Math.round(shape.days * 86_400_000 * 0.02)}`);
}

/**
 * The same touch for a `sessions` table of migration 6 (AggregatingMergeTree, summed by ClickHouse):
 * what a writer sends is a delta row (40 more events, a later update), not a whole new version.
 */
export function touchDeltaStatement(db: string, shape: SearchDataShape, version: number): string {
  const e = sessionExprs(shape);
  const ts = (offsetMs: string) => `fromUnixTimestamp64Milli(${e.startedMs} + ${offsetMs}, 'UTC')`;
  return `
    INSERT INTO ${db}.sessions (project_id, session_id, version, updated_at, started_at, event_count, tab_ids)
    SELECT '${shape.projectId}', ${e.id}, ${version}, ${ts(e.durationMs)}, ${ts('0')}, 40, ['tab-1']
    FROM numbers(${shape.sessions}) WHERE ${e.startedMs} > ${shape.now - Math.round(shape.days * 86_400_000 * 0.02)}`;
}

/** `INSERT … SELECT` statements filling `db`'s tables (schema of migrations 1–2 and later). */
export function generationStatements(db: string, shape: SearchDataShape): string[] {
  const e = sessionExprs(shape);
  const N = shape.sessions;
  const p = `'${shape.projectId}'`;
  const received = (offsetMs: string) => `toDateTime(intDiv(${e.startedMs} + ${offsetMs}, 1000), 'UTC')`;
  const ts = (offsetMs: string) => `fromUnixTimestamp64Milli(${e.startedMs} + ${offsetMs}, 'UTC')`;
  const child = (count: string, alias = 'i') => `FROM numbers(${N}) ARRAY JOIN range(${count}) AS ${alias}`;
  // Child rows are spread over the session: row i of k at i/k of its duration.
  const at = (count: string) => `toInt64(intDiv(${e.durationMs} * i, greatest(${count}, 1)))`;
  return [
    sessionRowStatement(db, shape, 1, ''),
    // The newest 2 % have a second version with more events (as the writer leaves them before merges).
    touchStatement(db, shape, 2),
    `INSERT INTO ${db}.page_visits (project_id, session_id, tab_id, seq, ts, url, title, referrer, via, received_at)
     SELECT ${p}, ${e.id}, 'tab-1', toUInt32(i * 40), ${ts(at(e.pageCount))}, ${pageUrl('number', 'i', 'path_')},
       concat('Shop · ', path_), '', if(i = 0, 'meta', 'pushState'), ${received(at(e.pageCount))}
     ${child(e.pageCount)}`,
    `INSERT INTO ${db}.console_logs (project_id, session_id, tab_id, seq, ts, level, message, trace, received_at)
     SELECT ${p}, ${e.id}, 'tab-1', toUInt32(i * 40 + 7), ${ts(at(e.consoleCount))},
       arrayElement(['log', 'log', 'info', 'warn', 'error', 'debug'], 1 + toUInt32(sipHash64(number, i, 31) % 6)),
       concat(arrayElement(${CONSOLE_TEMPLATES}, 1 + toUInt32(sipHash64(number, i, 32) % 30)), toString(sipHash64(number, i, 33) % 100000)),
       'at render (https://shop.example.com/assets/app.js:1:2345)', ${received(at(e.consoleCount))}
     ${child(e.consoleCount)}`,
    `INSERT INTO ${db}.errors (project_id, session_id, tab_id, seq, ts, kind, name, message, stack, source, line, column, received_at)
     SELECT ${p}, ${e.id}, 'tab-1', toUInt32(i * 40 + 9), ${ts(at(e.errorCount))}, 'error', 'TypeError',
       concat('Cannot read properties of undefined (reading ''', arrayElement(['price', 'id', 'length', 'map', 'items'], 1 + toUInt32(sipHash64(number, i, 41) % 5)), ''')'),
       'TypeError: x\\n    at https://shop.example.com/assets/app.js:1:2345', 'https://shop.example.com/assets/app.js', 1, 2345,
       ${received(at(e.errorCount))}
     ${child(e.errorCount)}`,
  ];
}

/** The custom events, for schemas that have the `custom_events` table (migration 4). */
export function customEventStatement(db: string, shape: SearchDataShape): string {
  const e = sessionExprs(shape);
  const at = `toInt64(intDiv(${e.durationMs} * i, greatest(${e.customCount}, 1)))`;
  return `INSERT INTO ${db}.custom_events (project_id, session_id, tab_id, seq, ts, name, payload, received_at)
    SELECT '${shape.projectId}', ${e.id}, 'tab-1', toUInt32(i * 40 + 13), fromUnixTimestamp64Milli(${e.startedMs} + ${at}, 'UTC'),
      if(sipHash64(number, i, 51) % 10 < 8, arrayElement(${EVENT_NAMES}, 1 + toUInt32(sipHash64(number, i, 52) % 40)),
         concat('experiment_', toString(sipHash64(number, i, 53) % 2000))),
      '{}', toDateTime(intDiv(${e.startedMs} + ${at}, 1000), 'UTC')
    FROM numbers(${shape.sessions}) ARRAY JOIN range(${e.customCount}) AS i`;
}

export async function generate(driver: Sql, db: string, shape: SearchDataShape, withCustomEvents: boolean): Promise<void> {
  for (const sql of generationStatements(db, shape)) await driver.command(sql);
  if (withCustomEvents) await driver.command(customEventStatement(db, shape));
}

/** How many delta rows the writer-like data gives each session (see deltaStatements). */
export const DELTAS_PER_SESSION = 3;

/**
 * The sessions of `srcDb` (old schema: one whole row per version, read with FINAL) written into `dstDb`'s
 * aggregating `sessions` (migration 6) the way writers send them: DELTAS_PER_SESSION delta rows per
 * session, one INSERT per delta round (so each session's deltas sit in different parts, unmerged until a
 * background merge runs). Delta j carries what the writer knew at j/k of the session: the attributes, the
 * first event time and the last one so far; counters are split between the deltas (errors in the last one,
 * the user id in the middle one, the exit URL in the last one). Merged, they give the source's totals.
 */
export function deltaStatements(srcDb: string, dstDb: string): string[] {
  const k = DELTAS_PER_SESSION;
  const part = (col: string, j: number) => (j < k - 1 ? `intDiv(${col}, ${k})` : `${col} - ${k - 1} * intDiv(${col}, ${k})`);
  // The landing page in the first delta, the other pages spread over the rest.
  const pages = (j: number) => (j === 0 ? 'toUInt32(1)' : j < k - 1 ? `intDiv(page_count - 1, ${k - 1})`
    : `page_count - 1 - ${k - 2} * intDiv(page_count - 1, ${k - 1})`);
  const at = (j: number) => (j === k - 1 ? 'ended_at'
    : `fromUnixTimestamp64Milli(toUnixTimestamp64Milli(first_event_at) + intDiv(toInt64(duration_ms) * ${j + 1}, ${k}), 'UTC')`);
  return Array.from({ length: k }, (_, j) => `
    INSERT INTO ${dstDb}.sessions (project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
      last_event_at, first_url, last_url, referrer, page_count, event_count, error_count, console_error_count, click_count, tab_ids,
      user_agent, browser, browser_version, os, device, screen, language, timezone, country)
    SELECT project_id, session_id, ${j + 1}, ${at(j)}, visitor_id, ${j === 1 ? "nullIf(user_id, '')" : 'NULL'}, started_at, first_event_at,
      ${at(j)}, first_url, ${j === k - 1 ? "nullIf(last_url, '')" : 'NULL'}, referrer,
      ${pages(j)}, ${part('event_count', j)},
      ${j === k - 1 ? 'error_count' : '0'}, ${j === 1 ? 'console_error_count' : '0'}, ${part('click_count', j)}, tab_ids,
      user_agent, browser, browser_version, os, device, screen, language, timezone, country
    FROM ${srcDb}.sessions FINAL`);
}

/**
 * `dstDb.session_attrs` (migration 10) as writers leave it: a row per session at its first flush (no user
 * id yet: the generated user id is set by the middle delta, see deltaStatements), then one more version
 * for each identified session when the user id is set, in a separate INSERT (so in another part).
 */
export function attrsStatements(srcDb: string, dstDb: string): string[] {
  const columns = `project_id, session_id, version, updated_at, started_at, visitor_id, user_id, first_url, user_agent, browser,
      browser_version, os, device, screen, country`;
  const row = (version: number, user: string) => `
    INSERT INTO ${dstDb}.session_attrs (${columns})
    SELECT project_id, session_id, ${version}, started_at, started_at, visitor_id, ${user}, first_url, user_agent, browser,
      browser_version, os, device, screen, country
    FROM ${srcDb}.sessions FINAL${version > 1 ? " WHERE user_id != ''" : ''}`;
  return [row(1, "''"), row(2, 'user_id')];
}
