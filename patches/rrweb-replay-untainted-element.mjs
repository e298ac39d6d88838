// A build-time patch of @rrweb/replay 2.1.6 (dist/replay.js): `querySelector` and `querySelectorAll`
// are listed as methods of Element, not as accessors, in the "is this prototype untainted?" check, so
// the dashboard's own Element.prototype passes it instead of rrweb creating (and removing) a hidden
// iframe in the dashboard to borrow a clean one. Why, what exactly: patches/README.md.
//
// Applied by a Vite plugin (frontend/vite.config.ts) as the dashboard is bundled, not to node_modules.
import { applyEdits, rrwebReplayPatchPlugin } from './apply-edits.mjs';

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

/** Vite (Rollup) plugin: patches @rrweb/replay's ESM build as it is bundled (apply-edits.mjs). */
export function rrwebReplayUntaintedPlugin() {
  return rrwebReplayPatchPlugin(PATCH, patchRrwebReplay);
}
