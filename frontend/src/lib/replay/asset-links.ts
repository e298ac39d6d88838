import { RRWEB_EVENT, RRWEB_SOURCE, type AssetKind, type AssetSignRequest, type AssetSignResponse } from '@tandem/protocol';

/**
 * Points a recording's stylesheets, fonts and images at the server's asset proxy before rrweb sees
 * them, so they load same-origin: cross-origin fonts without CORS headers work, linked stylesheets
 * get their `:hover` rules doubled for rrweb's hover class, and the agent's browser never fetches
 * from the recorded site. The events are rewritten in place (idempotent: proxied links point at this
 * origin and are left alone the next time).
 *
 * Call `await assets.rewrite(events)` on every batch of events before handing it to the Replayer,
 * in order (node ids seen in one batch tell what the next batch's attribute changes are about).
 */

type SignFn = (request: AssetSignRequest) => Promise<AssetSignResponse>;
type LinkFor = (url: string, kind: AssetKind) => string | null;

/** rrweb numbers the protocol's RRWEB_SOURCE does not list (only the replay side reads them). */
const SOURCE_STYLE_SHEET_RULE = 8;
const SOURCE_STYLE_DECLARATION = 13;
const SOURCE_ADOPTED_STYLE_SHEET = 15;
const NODE_ELEMENT = 2;
const NODE_TEXT = 3;

/** One sign request carries at most this many URLs (the server's limit, ASSET_SIGN_MAX_URLS). */
const SIGN_BATCH = 1000;

const URL_FN = /url\(\s*(?:'([^']*)'|"([^"]*)"|([^)'"]*?))\s*\)/gi;
const IMPORT = /@import\s+(['"])([^'"]+)\1/gi;

interface SerializedNode {
  type: number;
  id: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
}

type AnyEvent = { type: number; data: any };

export class ReplayAssets {
  /** url + kind → proxy link (or null: leave it) */
  readonly #links = new Map<string, string | null>();
  /** node id → lower-case tag name, for attribute changes that only name the node */
  readonly #tags = new Map<number, string>();
  /** text nodes inside <style>: their text is CSS */
  readonly #styleTexts = new Set<number>();
  #base = '';
  #enabled = true;

  constructor(
    private readonly sign: SignFn,
    /** URLs on this origin are the dashboard's own: never proxied. */
    private readonly ownOrigin: string = globalThis.location?.origin ?? '',
  ) {}

  #queue: Promise<void> = Promise.resolve();

  /**
   * Rewrites asset URLs in these events, in place. Never throws: a failed sign leaves URLs as they
   * were. Calls run one after the other (each walk reads what the previous batch said about nodes).
   */
  rewrite(events: readonly AnyEvent[]): Promise<void> {
    const run = this.#queue.then(() => this.#rewrite(events));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #rewrite(events: readonly AnyEvent[]): Promise<void> {
    if (!this.#enabled || !events.length) return;
    // Two walks over the same events: one finds the URLs not signed yet, one rewrites. Each must
    // start from the node knowledge (tags, style texts, page URL) the previous batch left.
    const before = { tags: new Map(this.#tags), styleTexts: new Set(this.#styleTexts), base: this.#base };
    const wanted = new Map<string, { url: string; kind: AssetKind }>();
    let found = 0;
    this.#walk(events, (url, kind) => {
      found++;
      const key = `${kind} ${url}`;
      if (!this.#links.has(key)) wanted.set(key, { url, kind });
      return null;
    });
    // No cross-origin URL at all (a site serving its own assets): the rewriting walk would change nothing
    // and leave the node knowledge exactly as this walk did, so it is skipped (it sits between a window's
    // arrival and its first frame, on every open and far seek).
    if (found === 0) return;
    this.#tags.clear();
    for (const [k, v] of before.tags) this.#tags.set(k, v);
    this.#styleTexts.clear();
    for (const id of before.styleTexts) this.#styleTexts.add(id);
    this.#base = before.base;
    if (wanted.size) {
      try {
        await this.#signAll([...wanted.entries()]);
      } catch {
        // Unsigned URLs stay as recorded (the replay loads them directly, as without a proxy).
      }
    }
    this.#walk(events, (url, kind) => (this.#enabled ? (this.#links.get(`${kind} ${url}`) ?? null) : null));
  }

  async #signAll(entries: [string, { url: string; kind: AssetKind }][]): Promise<void> {
    for (let i = 0; i < entries.length; i += SIGN_BATCH) {
      const chunk = entries.slice(i, i + SIGN_BATCH);
      const answer = await this.sign({ urls: chunk.map(([, v]) => v) });
      if (!answer.enabled) {
        this.#enabled = false;
        return;
      }
      chunk.forEach(([key], j) => {
        const link = answer.urls[j];
        this.#links.set(key, link ? new URL(link, this.ownOrigin || 'http://localhost').href : null);
      });
    }
  }

  #walk(events: readonly AnyEvent[], linkFor: LinkFor): void {
    const proxied: LinkFor = (url, kind) => {
      const abs = this.#absolute(url);
      return abs ? linkFor(abs, kind) : null;
    };
    for (const e of events) {
      if (e.type === RRWEB_EVENT.Meta && typeof e.data?.href === 'string') this.#base = e.data.href;
      else if (e.type === RRWEB_EVENT.FullSnapshot && e.data?.node) {
        this.#tags.clear();
        this.#styleTexts.clear();
        this.#node(e.data.node, proxied, false);
      } else if (e.type === RRWEB_EVENT.IncrementalSnapshot && e.data) this.#incremental(e.data, proxied);
    }
  }

  /** Absolute http(s) URL on another origin than the dashboard's, or null. */
  #absolute(ref: string): string | null {
    const trimmed = ref.trim();
    if (!trimmed || trimmed.startsWith('#') || /^(data|blob|about|javascript):/i.test(trimmed)) return null;
    try {
      const url = new URL(trimmed, this.#base || undefined);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
      return url.origin === this.ownOrigin ? null : url.href;
    } catch {
      return null;
    }
  }

  #node(n: SerializedNode, linkFor: LinkFor, inStyle: boolean): void {
    if (n.type === NODE_ELEMENT) {
      const tag = (n.tagName ?? '').toLowerCase();
      this.#tags.set(n.id, tag);
      if (n.attributes) this.#attributes(tag, n.attributes, linkFor);
      for (const child of n.childNodes ?? []) this.#node(child, linkFor, tag === 'style');
    } else if (n.type === NODE_TEXT) {
      if (inStyle || n.isStyle) {
        this.#styleTexts.add(n.id);
        if (typeof n.textContent === 'string') n.textContent = rewriteCss(n.textContent, linkFor);
      }
    } else {
      for (const child of n.childNodes ?? []) this.#node(child, linkFor, false);
    }
  }

  /** Rewrites one element's asset attributes (a full set from a snapshot, or the changed ones). */
  #attributes(tag: string, attrs: Record<string, unknown>, linkFor: LinkFor, allAttrs = attrs): void {
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'style' && value && typeof value === 'object') {
        // A style diff from a mutation: { prop: value | [value, priority] | false }
        for (const [prop, v] of Object.entries(value as Record<string, unknown>)) {
          if (typeof v === 'string') (value as Record<string, unknown>)[prop] = rewriteCss(v, linkFor);
          else if (Array.isArray(v) && typeof v[0] === 'string') v[0] = rewriteCss(v[0], linkFor);
        }
        continue;
      }
      if (typeof value !== 'string') continue;
      const next = this.#attribute(tag, name, value, linkFor, allAttrs);
      if (next !== value) attrs[name] = next;
    }
  }

  #attribute(tag: string, name: string, value: string, linkFor: LinkFor, attrs: Record<string, unknown>): string {
    if (name === 'style' || name === '_cssText') return rewriteCss(value, linkFor);
    if (tag === 'link' && name === 'href') {
      const rel = String(attrs.rel ?? '').toLowerCase();
      const as = String(attrs.as ?? '').toLowerCase();
      // A stylesheet rrweb could read was inlined as _cssText; the rest are the cross-origin ones.
      if (/\bstylesheet\b/.test(rel) || (rel === 'preload' && as === 'style')) return linkFor(value, 'css') ?? value;
      if (/\bicon\b/.test(rel) || (rel === 'preload' && (as === 'font' || as === 'image'))) return linkFor(value, 'asset') ?? value;
      return value;
    }
    if ((tag === 'img' || tag === 'source' || tag === 'input' || tag === 'image') && (name === 'src' || name === 'href' || name === 'xlink:href')) {
      return linkFor(value, 'asset') ?? value;
    }
    if ((tag === 'img' || tag === 'source') && name === 'srcset') return rewriteSrcset(value, linkFor);
    if (tag === 'video' && name === 'poster') return linkFor(value, 'asset') ?? value;
    return value;
  }

  #incremental(d: any, linkFor: LinkFor): void {
    switch (d.source) {
      case RRWEB_SOURCE.Mutation:
        for (const add of d.adds ?? []) if (add?.node) this.#node(add.node, linkFor, this.#tags.get(add.parentId) === 'style');
        for (const change of d.attributes ?? []) {
          const tag = this.#tags.get(change.id);
          if (tag && change.attributes) this.#attributes(tag, change.attributes, linkFor, change.attributes);
        }
        for (const text of d.texts ?? []) {
          if (this.#styleTexts.has(text.id) && typeof text.value === 'string') text.value = rewriteCss(text.value, linkFor);
        }
        return;
      case SOURCE_STYLE_SHEET_RULE:
        for (const add of d.adds ?? []) if (typeof add?.rule === 'string') add.rule = rewriteCss(add.rule, linkFor);
        return;
      case SOURCE_STYLE_DECLARATION:
        if (d.set && typeof d.set.value === 'string') d.set.value = rewriteCss(d.set.value, linkFor);
        return;
      case SOURCE_ADOPTED_STYLE_SHEET:
        for (const sheet of d.styles ?? []) {
          for (const r of sheet?.rules ?? []) if (typeof r?.rule === 'string') r.rule = rewriteCss(r.rule, linkFor);
        }
        return;
    }
  }
}

/** `url()`s and `@import "x"` in CSS text → proxy links (`@import`ed sheets as stylesheets). */
export function rewriteCss(css: string, linkFor: LinkFor): string {
  if (!css.includes('url(') && !css.includes('URL(') && !css.includes('@import')) return css;
  const imported = css.replace(IMPORT, (whole, _q: string, ref: string) => {
    const link = linkFor(ref, 'css');
    return link ? `@import url("${link}")` : whole;
  });
  return imported.replace(URL_FN, (whole: string, single: string | undefined, double: string | undefined, bare: string | undefined, at: number) => {
    const ref = single ?? double ?? bare ?? '';
    const link = linkFor(ref, /@import\s*$/i.test(imported.slice(Math.max(0, at - 12), at)) ? 'css' : 'asset');
    return link ? `url("${link}")` : whole;
  });
}

/** `a.png 1x, b.png 2x` → each candidate's URL proxied, descriptors kept. */
export function rewriteSrcset(srcset: string, linkFor: LinkFor): string {
  return srcset
    .split(',')
    .map((candidate) => {
      const m = candidate.match(/^(\s*)(\S+)(.*)$/s);
      if (!m) return candidate;
      const link = linkFor(m[2], 'asset');
      return link ? `${m[1]}${link}${m[3]}` : candidate;
    })
    .join(',');
}
