// A build-time patch of @rrweb/record 2.1.6 (dist/record.js): within one MutationObserver batch, the
// "is this node or an ancestor masked / blocked?" answers are remembered per element, so each added
// node costs one matches() against its parent's remembered answer instead of a closest() walk to the
// root. Why, what exactly, and how to send it upstream: patches/README.md.
//
// Applied by an esbuild plugin (tracker/build.mjs), not to node_modules: the benches' "plain
// @rrweb/record" baseline bundles the same package and must stay unpatched.
import { readFileSync } from 'node:fs';
import { applyEdits, checkVersion } from './apply-edits.mjs';

export const RRWEB_RECORD_VERSION = '2.1.6';
export const PATCH_NAME = 'rrweb-record-selector-memo';
/** Marker the patched source carries (tests and the build check for it). */
export const PATCH_MARKER = '/* tandem patch: rrweb-record-selector-memo */';

const MEMO_HELPERS = `${PATCH_MARKER}
// While a mutation batch is processed (MutationBuffer.processMutations), the DOM does not change, so
// "el or an ancestor matches" is the same for every node under el: remember it per element.
let selectorMemo = null;
function openSelectorMemo() {
  if (selectorMemo) return false;
  selectorMemo = { mask: new Map(), block: new Map(), lastEl: null, lastBlocked: false };
  return true;
}
function closeSelectorMemo() {
  selectorMemo = null;
}
// test(el, cls, selector, checkAncestors): the unpatched check (arguments passed through: no closure
// per call). A parent's remembered answer turns the ancestor walk into a check of el alone: el or an
// ancestor matches = the parent's answer, or el itself matches.
function memoSelfOrAncestor(memo, el, test, cls, selector) {
  let r = memo.get(el);
  if (r !== void 0) return r;
  const parent = index.parentElement(el);
  const known = parent ? memo.get(parent) : void 0;
  r = known === true || test(el, cls, selector, known !== false);
  memo.set(el, r);
  return r;
}
`;

/** Exact texts of 2.1.6's dist/record.js and what replaces them; each must occur exactly once. */
const EDITS = [
  {
    what: 'needMaskingText: ancestor checks through the memo',
    find: `  } else {
    el = index.parentElement(node);
  }
  try {
    if (typeof maskTextClass === "string") {
      if (checkAncestors) {
        if (el.closest(\`.\${maskTextClass}\`)) return true;`,
    replace: `  } else {
    el = index.parentElement(node);
  }
  if (checkAncestors && selectorMemo) {
    return memoSelfOrAncestor(selectorMemo.mask, el, maskTextMatches, maskTextClass, maskTextSelector);
  }
  return maskTextMatches(el, maskTextClass, maskTextSelector, checkAncestors);
}
function maskTextMatches(el, maskTextClass, maskTextSelector, checkAncestors) {
  try {
    if (typeof maskTextClass === "string") {
      if (checkAncestors) {
        if (el.closest(\`.\${maskTextClass}\`)) return true;`,
  },
  {
    what: 'isBlocked: ancestor checks through the memo',
    find: `  const el = closestElementOfNode(node);
  if (!el) {
    return false;
  }
  try {
    if (typeof blockClass === "string") {`,
    replace: `  const el = closestElementOfNode(node);
  if (!el) {
    return false;
  }
  if (selectorMemo) {
    if (checkAncestors) return memoSelfOrAncestor(selectorMemo.block, el, elementBlocked, blockClass, blockSelector);
    // Attribute records: a page that sets several attributes of one element in a row gives one record
    // each, and every one asked el.matches(blockSelector) again. The last element's answer is kept.
    if (selectorMemo.lastEl === el) return selectorMemo.lastBlocked;
    const blocked = elementBlocked(el, blockClass, blockSelector, false);
    selectorMemo.lastEl = el;
    selectorMemo.lastBlocked = blocked;
    return blocked;
  }
  return elementBlocked(el, blockClass, blockSelector, checkAncestors);
}
function elementBlocked(el, blockClass, blockSelector, checkAncestors) {
  try {
    if (typeof blockClass === "string") {`,
  },
  {
    what: 'the memo helpers, before isBlocked',
    find: `function closestElementOfNode(node) {`,
    replace: `${MEMO_HELPERS}function closestElementOfNode(node) {`,
  },
  {
    what: 'processMutations: the memo lives for one batch',
    find: `    __publicField(this, "processMutations", (mutations) => {
      mutations.forEach(this.processMutation);
      this.emit();
    });`,
    replace: `    __publicField(this, "processMutations", (mutations) => {
      const memoOwner = openSelectorMemo();
      try {
        mutations.forEach(this.processMutation);
        this.emit();
      } finally {
        if (memoOwner) closeSelectorMemo();
      }
    });`,
  },
  {
    what: 'attribute records: the style-diff objects only for style changes',
    find: `            item = {
              node: m.target,
              attributes: {},
              styleDiff: {},
              _unchangedStyles: {}
            };`,
    replace: `            item = {
              node: m.target,
              attributes: {},
              styleDiff: null,
              _unchangedStyles: null
            };`,
  },
  {
    what: 'style changes: their diff objects made when first needed',
    find: `            if (attributeName === "style") {
              if (!this.unattachedDoc) {`,
    replace: `            if (attributeName === "style") {
              if (!item.styleDiff) item.styleDiff = {};
              if (!item._unchangedStyles) item._unchangedStyles = {};
              if (!this.unattachedDoc) {`,
  },
  {
    what: 'emit: the memo ends before the page\'s emit callback runs (it may change the DOM)',
    find: `      this.movedMap = {};
      this.mutationCb(payload);`,
    replace: `      this.movedMap = {};
      closeSelectorMemo();
      this.mutationCb(payload);`,
  },
];

const PATCH = { name: PATCH_NAME, pkg: '@rrweb/record', version: RRWEB_RECORD_VERSION };

/** The patched source; throws (naming the edit) when the source is not the one this patch was written for. */
export function patchRrwebRecord(source) {
  return applyEdits(source, { ...PATCH, marker: PATCH_MARKER, edits: EDITS });
}

const RECORD_DIST = /[\\/]@rrweb[\\/]record[\\/]dist[\\/]record\.js$/;
const ANY_RECORD_DIST = /[\\/]@rrweb[\\/]record[\\/]dist[\\/]/;

/**
 * esbuild plugin: patches @rrweb/record's ESM build as it is bundled. Fails the build when the
 * package is not the version the patch was written for, or when rrweb got bundled from another file
 * of the package (the patch would silently not apply).
 */
export function rrwebSelectorMemoPlugin() {
  return {
    name: PATCH_NAME,
    setup(build) {
      let applied = false;
      build.onStart(() => {
        applied = false;
      });
      build.onLoad({ filter: RECORD_DIST }, (args) => {
        checkVersion(args.path, PATCH);
        applied = true;
        return { contents: patchRrwebRecord(readFileSync(args.path, 'utf8')), loader: 'js' };
      });
      build.onEnd((result) => {
        const inputs = Object.keys(result.metafile?.inputs ?? {});
        const other = inputs.filter((i) => ANY_RECORD_DIST.test(i) && !RECORD_DIST.test(i));
        if (other.length && !applied) {
          return { errors: [{ text: `${PATCH_NAME}: @rrweb/record was bundled from ${other.join(', ')}, which the patch does not cover` }] };
        }
        return undefined;
      });
    },
  };
}
