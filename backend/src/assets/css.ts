import postcss, { type Root } from 'postcss';
import type { AssetKind } from '@tandem/protocol';

/** Maps an absolute asset URL to the link the replay should load instead (null: leave it). */
export type LinkFor = (absoluteUrl: string, kind: AssetKind) => string | null;

// `url(x)`, `url('x')`, `url("x")` — the same shapes rrweb's recorder rewrites to absolute URLs.
const URL_FN = /url\(\s*(?:'([^']*)'|"([^"]*)"|([^)'"]*?))\s*\)/gi;

/** Absolute http(s) URL for `ref` found in a stylesheet at `base`, or null for data:, fragments, junk. */
export function resolveCssRef(ref: string, base: string): string | null {
  const trimmed = ref.trim();
  // `url(#gradient)` points into the document (SVG), `data:` carries its bytes: nothing to fetch.
  if (!trimmed || trimmed.startsWith('#') || /^(data|blob|about|javascript):/i.test(trimmed)) return null;
  try {
    const url = new URL(trimmed, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Rewrites every `url()` in a value or declaration text; quotes in the result are always double. */
export function rewriteUrls(text: string, base: string, linkFor: LinkFor, kind: AssetKind = 'asset'): string {
  return text.replace(URL_FN, (whole, single?: string, double?: string, bare?: string) => {
    const ref = single ?? double ?? bare ?? '';
    const abs = resolveCssRef(ref, base);
    const link = abs ? linkFor(abs, kind) : null;
    return link ? `url("${link.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\a ' : `\\${c}`))}")` : whole;
  });
}

/**
 * rrweb replays a recorded hover by putting the class `:hover` on the hovered element and its
 * ancestors, and expects each `:hover` rule duplicated with `.\:hover` in its place (its replayer
 * does this for stylesheets it inlined itself; linked ones are ours to fix).
 */
export function addHoverClassSelectors(root: Root): void {
  root.walkRules((rule) => {
    const extra = rule.selectors.filter((s) => s.includes(':hover')).map((s) => s.replace(/:hover/g, '.\\:hover'));
    if (extra.length) rule.selector = `${rule.selector},\n${extra.join(',\n')}`;
  });
}

function rewriteImport(params: string, base: string, linkFor: LinkFor): string {
  // `@import url(x) media;` or `@import "x" media;`
  const quoted = params.match(/^\s*(['"])(.*?)\1(.*)$/s);
  if (quoted) {
    const abs = resolveCssRef(quoted[2], base);
    const link = abs ? linkFor(abs, 'css') : null;
    return link ? `url("${link}")${quoted[3]}` : params;
  }
  return rewriteUrls(params, base, linkFor, 'css');
}

/**
 * A stylesheet as the replay should get it: `url()`s (fonts, images) and `@import`s pointing at
 * proxy links, and `:hover` rules doubled for rrweb's hover class. A sheet postcss cannot parse
 * still gets its URLs rewritten by text (browsers are lenient with CSS; so is this).
 */
export function rewriteStylesheet(css: string, base: string, linkFor: LinkFor): string {
  let root: Root;
  try {
    root = postcss.parse(css, { from: undefined });
  } catch {
    return rewriteUrls(css, base, linkFor);
  }
  root.walkAtRules('import', (at) => {
    at.params = rewriteImport(at.params, base, linkFor);
  });
  root.walkDecls((decl) => {
    if (/url\(/i.test(decl.value)) decl.value = rewriteUrls(decl.value, base, linkFor);
  });
  addHoverClassSelectors(root);
  return root.toString();
}
