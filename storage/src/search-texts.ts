import type { Filters } from './search-filters.js';
import { CURSOR_TERM } from './search-windows.js';
import type { Driver } from './types.js';

/**
 * Free text's key tables (Filters.textKeys.keyed): the visited and landing pages (page_texts / page_keys) and the user
 * id, browser, OS and device (attr_texts / attr_keys, migration 20). A needle is matched against a table's distinct
 * texts, then the keys of the matching texts are read by primary key (text, started_at).
 *
 * The texts are matched once per call (resolveTexts) and the key steps read them as a literal set: each statement that
 * named the texts tables in a subquery matched them again (~2.7 ms page_texts, ~4.4 ms attr_texts at 1M sessions), and
 * a call sends a probe and one key step per round. With their keys counted up to FEW_TEXT_KEYS (fewTextKeys), a rare
 * needle reads its whole range in one window: a day first cost a rare one the day's reads before the rest.
 */

/** More matching texts than this: read through the subquery (a literal set that large costs its parsing), and dense. */
const MAX_LITERAL_TEXTS = 1_000;
/** The two limits; TANDEM_SEARCH_TEXT_LIMITS="texts,keys" sets them (tests run every path on small data). */
const limits = () => {
  const [texts, keys] = (process.env.TANDEM_SEARCH_TEXT_LIMITS ?? '').split(',').map(Number);
  return { texts: texts || MAX_LITERAL_TEXTS, keys: keys || FEW_TEXT_KEYS };
};
/**
 * At most this many keys over the whole range (counted, not estimated: a granule of page_keys holds 8,192 keys, so the
 * index's estimate cannot tell 30 keys from 20,000): every source in one window. Its keys are a few primary-key ranges
 * and the ids' bloom filters cost about the same over any range, so the whole range costs a rare needle (q "user-4242":
 * ~110 keys) about what a day did. A dense one (q "checkout": ~1.9M page keys) keeps the day first.
 */
const FEW_TEXT_KEYS = 1_000;
/** One window for few keys; TANDEM_SEARCH_TEXT_WHOLE=0 turns it off (A/B measurements). */
export const textWholeOn = () => process.env.TANDEM_SEARCH_TEXT_WHOLE !== '0';
/** The texts matched once per call; TANDEM_SEARCH_TEXTS_ONCE=0 keeps the subqueries (A/B measurements). */
const textsOnceOn = () => process.env.TANDEM_SEARCH_TEXTS_ONCE !== '0';

const matching = (texts: string) => `SELECT text FROM ${texts} WHERE project_id = {p:String} AND positionCaseInsensitiveUTF8(text, {q:String}) > 0`;

/** Each key table's `FROM … WHERE …` (the step adds its bounds): the texts as a literal set once resolved, else the subquery. */
export function textKeySources(f: Filters): string[] {
  const t = f.textKeys!;
  return t.keyed.flatMap(({ keys, texts }, i) => (!t.texts ? [`FROM ${keys} WHERE project_id = {p:String} AND text IN (${matching(texts)})`]
    : t.texts[i].length ? [`FROM ${keys} WHERE project_id = {p:String} AND text IN {tx${i}:Array(String)}`] : []));
}

/** Matches the needle against every texts table in one statement; sets Filters.textKeys.texts (and params tx0…) unless too many. */
export async function resolveTexts(driver: Driver, f: Filters): Promise<void> {
  const t = f.textKeys!;
  if (!textsOnceOn()) return;
  const most = limits().texts;
  const rows = await driver.query<{ i: number | string; text: string }>(`${t.keyed.map(({ texts }, i) =>
    `SELECT ${i} AS i, text FROM (${matching(texts)} LIMIT ${most + 1})`).join(' UNION ALL ')} SETTINGS max_threads = 1`, f.params);
  const per = t.keyed.map((_, i) => rows.filter((r) => Number(r.i) === i).map((r) => r.text));
  if (per.some((x) => x.length > most)) return;
  t.texts = per;
  per.forEach((x, i) => (f.params[`tx${i}`] = x));
}

/** Whether the key tables hold at most FEW_TEXT_KEYS keys over the query's whole range, any page (one read, stopped early). */
export async function fewTextKeys(driver: Driver, f: Filters): Promise<boolean> {
  const t = f.textKeys!;
  if (t.texts && t.texts.every((x) => x.length === 0)) return true; // no text matches: the ids alone
  if (!t.texts && textsOnceOn()) return false; // more texts than the literal limit, each with a key (so more keys: dense)
  const { cTs, cId, ...params } = f.params;
  const bounds = f.bounds.filter((b) => b !== CURSOR_TERM).join(' AND ');
  const few = limits().keys;
  const [row] = await driver.query<{ n: number | string }>(`SELECT count() AS n FROM (${textKeySources(f).map((k) =>
    `SELECT 1 ${k} AND ${bounds} LIMIT ${few + 1}`).join(' UNION ALL ')}) SETTINGS max_threads = 1`, params);
  return Number(row?.n) <= few;
}
