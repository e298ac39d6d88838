// A build-time patch of @rrweb/replay 2.1.6 (dist/replay.js): the file carries postcss twice. One copy
// is rrweb-snapshot's, used to rewrite a replayed page's CSS (hover classes, media queries); the other
// came in with rrdom's own copy of rrweb-snapshot and is never called, yet the module's top level runs
// its whole setup (`requirePostcss()`) and reads ~20 of its properties, so no bundler can drop it.
// The patch makes that one binding a pure expression: unused, the bundler drops it, and with it every
// function only it reached (~110 kB of source, ~30 kB minified, compiled on every open of the player).
// Why, what exactly: patches/README.md.
//
// Applied by a Vite plugin (frontend/vite.config.ts) as the dashboard is bundled, not to node_modules.
import { applyEdits, rrwebReplayPatchPlugin } from './apply-edits.mjs';

export const RRWEB_REPLAY_VERSION = '2.1.6';
export const PATCH_NAME = 'rrweb-replay-dead-postcss';
/** Marker the patched source carries (tests and the build check for it). */
export const PATCH_MARKER = '/* tandem patch: rrweb-replay-dead-postcss */';

/** The properties 2.1.6 reads off the unused copy at its top level, in its order. */
const READS = ['stringify', 'fromJSON', 'plugin', 'parse', 'list', 'document', 'comment', 'atRule', 'rule', 'decl', 'root', 'CssSyntaxError', 'Declaration', 'Container', 'Processor', 'Document', 'Comment', 'Warning', 'AtRule', 'Result', 'Input', 'Rule', 'Root', 'Node'];

/** Exact texts of 2.1.6's dist/replay.js and what replaces them; each must occur exactly once. */
const EDITS = [
  {
    what: "the second postcss copy's setup and property reads at the top level",
    find: `var postcssExports = requirePostcss();
const postcss = /* @__PURE__ */ getDefaultExportFromCjs(postcssExports);
${READS.map((p) => `postcss.${p};\n`).join('')}`,
    // Both calls pure: unused (2.1.6), the declaration goes; used after all, it would be built where it was.
    replace: `${PATCH_MARKER}
const postcss = /* @__PURE__ */ getDefaultExportFromCjs(/* @__PURE__ */ requirePostcss());
`,
  },
];

const PATCH = { name: PATCH_NAME, pkg: '@rrweb/replay', version: RRWEB_REPLAY_VERSION };

/** The patched source; throws (naming the edit) when the source is not the one this patch was written for. */
export function patchRrwebReplayPostcss(source) {
  return applyEdits(source, { ...PATCH, marker: PATCH_MARKER, edits: EDITS });
}

/** Vite (Rollup) plugin: patches @rrweb/replay's ESM build as it is bundled (apply-edits.mjs). */
export function rrwebReplayDeadPostcssPlugin() {
  return rrwebReplayPatchPlugin(PATCH, patchRrwebReplayPostcss);
}
