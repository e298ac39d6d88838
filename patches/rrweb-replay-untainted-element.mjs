// A build-time patch of @rrweb/replay 2.1.6 (dist/replay.js): `querySelector` and `querySelectorAll`
// are listed as methods of Element, not as accessors, in the "is this prototype untainted?" check, so
// the dashboard's own Element.prototype passes it instead of rrweb creating (and removing) a hidden
// iframe in the dashboard to borrow a clean one. Why, what exactly: patches/README.md.
//
// Applied by a Vite plugin (frontend/vite.config.ts) as the dashboard is bundled, not to node_modules.
import { applyEdits, checkVersion } from './apply-edits.mjs';

export const RRWEB_REPLAY_VERSION = '2.1.6';
export const PATCH_NAME = 'rrweb-replay-untainted-element';
/** Marker the patched source carries (tests and the build check for it). */
export const PATCH_MARKER = '/* tandem patch: rrweb-replay-untainted-element */';

/** Exact texts of 2.1.6's dist/replay.js and what replaces them; each must occur exactly once. */
const EDITS = [
  {
    what: 'Element: shadowRoot is the only accessor tested',
    find: `  Element: ["shadowRoot", "querySelector", "querySelectorAll"],
  MutationObserver: []
};
const testableMethods = {
  Node: ["contains", "getRootNode"],
  ShadowRoot: ["getSelection"],
  Element: [],`,
    replace: `  ${PATCH_MARKER}
  Element: ["shadowRoot"],
  MutationObserver: []
};
const testableMethods = {
  Node: ["contains", "getRootNode"],
  ShadowRoot: ["getSelection"],
  Element: ["querySelector", "querySelectorAll"],`,
  },
];

const PATCH = { name: PATCH_NAME, pkg: '@rrweb/replay', version: RRWEB_REPLAY_VERSION };

/** The patched source; throws (naming the edit) when the source is not the one this patch was written for. */
export function patchRrwebReplay(source) {
  return applyEdits(source, { ...PATCH, marker: PATCH_MARKER, edits: EDITS });
}

const REPLAY_DIST = /[\\/]@rrweb[\\/]replay[\\/]dist[\\/]replay\.js$/;
const ANY_REPLAY_DIST = /[\\/]@rrweb[\\/]replay[\\/]dist[\\/][^\\/]+\.(c?js|mjs)$/;

/**
 * Vite (Rollup) plugin: patches @rrweb/replay's ESM build as it is bundled. Fails the build when the
 * package is not the version the patch was written for, or when the replayer got bundled from another
 * file of the package (the patch would silently not apply).
 */
export function rrwebReplayUntaintedPlugin() {
  let applied = false;
  let other = null;
  return {
    name: PATCH_NAME,
    enforce: 'pre',
    buildStart() {
      applied = false;
      other = null;
    },
    transform(code, id) {
      const file = id.split('?')[0];
      if (REPLAY_DIST.test(file)) {
        checkVersion(file, PATCH);
        applied = true;
        return { code: patchRrwebReplay(code), map: null };
      }
      if (ANY_REPLAY_DIST.test(file)) other = file;
      return null;
    },
    buildEnd() {
      if (other && !applied) throw new Error(`${PATCH_NAME}: @rrweb/replay was bundled from ${other}, which the patch does not cover`);
    },
  };
}
