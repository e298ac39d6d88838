// Shared by the build-time patches of rrweb's dist files (patches/README.md): each patch is a list of
// exact texts of one released file and what replaces them.
import { readFileSync } from 'node:fs';

/**
 * `source` with every edit applied; each edit's `find` must occur exactly once, or this throws naming
 * the edit (the package is not the release the patch was written for). A source that already carries
 * `marker` is returned as it is.
 */
export function applyEdits(source, { name, pkg, version, marker, edits }) {
  if (source.includes(marker)) return source;
  let out = source;
  for (const e of edits) {
    const at = out.indexOf(e.find);
    if (at < 0 || out.indexOf(e.find, at + 1) >= 0) {
      throw new Error(`${name}: "${e.what}" does not apply to this ${pkg} (written for ${version}); update patches/`);
    }
    out = out.slice(0, at) + e.replace + out.slice(at + e.find.length);
  }
  return out;
}

/** Throws unless the package that `distFile` (a file in its dist/ folder) belongs to is `version`. */
export function checkVersion(distFile, { name, pkg, version }) {
  const found = JSON.parse(readFileSync(new URL('../package.json', `file://${distFile}`), 'utf8')).version;
  if (found !== version) throw new Error(`${name}: written for ${pkg} ${version}, found ${found}; update patches/`);
}

const REPLAY_DIST = /[\\/]@rrweb[\\/]replay[\\/]dist[\\/]replay\.js$/;
const ANY_REPLAY_DIST = /[\\/]@rrweb[\\/]replay[\\/]dist[\\/][^\\/]+\.(c?js|mjs)$/;

/**
 * Vite (Rollup) plugin applying `patch` (source → patched source) to @rrweb/replay's ESM build as it is
 * bundled. Fails the build when the package is not the version the patch was written for, or when the
 * replayer got bundled from another file of the package (the patch would silently not apply).
 */
export function rrwebReplayPatchPlugin(info, patch) {
  let applied = false;
  let other = null;
  return {
    name: info.name,
    enforce: 'pre',
    buildStart() {
      applied = false;
      other = null;
    },
    transform(code, id) {
      const file = id.split('?')[0];
      if (REPLAY_DIST.test(file)) {
        checkVersion(file, info);
        applied = true;
        return { code: patch(code), map: null };
      }
      if (ANY_REPLAY_DIST.test(file)) other = file;
      return null;
    },
    buildEnd() {
      if (other && !applied) throw new Error(`${info.name}: @rrweb/replay was bundled from ${other}, which the patch does not cover`);
    },
  };
}
