// A small patch to @rrweb/record 2.1.6, applied by tracker/build.mjs when it bundles rrweb (the
// package in node_modules stays as published, so the benches' plain-rrweb baseline is unpatched).
// Written so it could be sent upstream; see tracker/patches/README.md.
//
// isBlocked() and needMaskingText() walk the element's ancestors with closest() once for the class
// (rr-block / rr-mask) and once more for the selector when one is set. Tandem always sets both
// ([data-tandem-block], [data-tandem-mask]), so every added node and every childList mutation walked
// its ancestors twice: on a 1,000-deep insertion that is most of the recorder's time. One closest()
// with the selector list ".class, selector" answers the same question in one walk. If the combined
// selector is invalid (a class name that is not a valid identifier), the original code runs as before.

const PATCHES = [
  {
    name: 'isBlocked: one closest() for class and selector',
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
  if (checkAncestors && typeof blockClass === "string" && blockSelector) {
    try {
      return el.closest("." + blockClass + ", " + blockSelector) !== null;
    } catch (e) {
    }
  }
  try {
    if (typeof blockClass === "string") {`,
  },
  {
    name: 'needMaskingText: one closest() for class and selector',
    find: `  try {
    if (typeof maskTextClass === "string") {
      if (checkAncestors) {
        if (el.closest(\`.\${maskTextClass}\`)) return true;`,
    replace: `  if (checkAncestors && typeof maskTextClass === "string" && maskTextSelector) {
    try {
      return el.closest("." + maskTextClass + ", " + maskTextSelector) !== null;
    } catch (e) {
    }
  }
  try {
    if (typeof maskTextClass === "string") {
      if (checkAncestors) {
        if (el.closest(\`.\${maskTextClass}\`)) return true;`,
  },
];

/** The patched source; throws when an anchor is missing (rrweb changed: review the patch). */
export function patchRrwebRecord(source) {
  let out = source;
  for (const p of PATCHES) {
    const at = out.indexOf(p.find);
    if (at < 0 || out.indexOf(p.find, at + 1) >= 0) {
      throw new Error(`rrweb patch "${p.name}" does not apply to this @rrweb/record (anchor ${at < 0 ? 'missing' : 'not unique'})`);
    }
    out = out.replace(p.find, p.replace);
  }
  return out;
}

/** How many times the patch was applied (the build checks it was, so a moved file cannot skip it). */
export const rrwebPatchStats = { applied: 0 };

/** esbuild plugin: serves @rrweb/record's ES build patched. */
export const rrwebRecordPatch = {
  name: 'tandem-rrweb-record-patch',
  setup(build) {
    build.onLoad({ filter: /[\\/]@rrweb[\\/]record[\\/]dist[\\/]record\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const contents = patchRrwebRecord(await readFile(args.path, 'utf8'));
      rrwebPatchStats.applied++;
      return { contents, loader: 'js' };
    });
  },
};
