/**
 * patches/rrweb-replay-dead-postcss.mjs against the installed @rrweb/replay: it applies exactly (the build
 * fails otherwise), is idempotent, refuses a source it was not written for, and lets a bundler drop the
 * second postcss copy while the used one stays. The replays themselves: the e2e player tests.
 */
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PATCH_MARKER, patchRrwebReplayPostcss, RRWEB_REPLAY_VERSION } from '../../patches/rrweb-replay-dead-postcss.mjs';

const pkgDir = new URL('../../node_modules/@rrweb/replay/', import.meta.url);
const source = readFileSync(new URL('dist/replay.js', pkgDir), 'utf8');

/** `code` bundled and minified as the dashboard's build would (tree-shaken), keeping the Replayer. */
async function bundled(code: string): Promise<string> {
  const out = await build({
    stdin: { contents: code, loader: 'js', resolveDir: new URL('dist/', pkgDir).pathname },
    bundle: true, minify: true, write: false, format: 'esm', platform: 'browser', logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}
const count = (text: string, what: RegExp) => text.match(what)?.length ?? 0;

describe('rrweb replay patch: the unused postcss copy', () => {
  it('is written for the installed @rrweb/replay', () => {
    expect(JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8')).version).toBe(RRWEB_REPLAY_VERSION);
  });

  it('replaces only the unused copy\'s top-level setup, and is idempotent', () => {
    const out = patchRrwebReplayPostcss(source);
    expect(out).toContain(PATCH_MARKER);
    expect(count(source, /\nvar postcssExports = requirePostcss\(\);\n/g)).toBe(1);
    expect(count(out, /= requirePostcss\(\);/g)).toBe(0);
    expect(count(out, /\npostcss\.\w+;\n/g)).toBe(0);
    // The used copy (rrweb-snapshot's, `postcss$1`) keeps its setup.
    expect(count(out, /\nvar postcssExports\$1 = requirePostcss\$1\(\);\n/g)).toBe(1);
    expect(patchRrwebReplayPostcss(out)).toBe(out);
  });

  it('lets the bundler drop the copy: one CssSyntaxError class instead of two, the Replayer kept', async () => {
    const entry = (src: string) => `${src.replace(/\nexport \{[\s\S]*$/, '')}\nexport { Replayer };\n`;
    const [before, after] = await Promise.all([bundled(entry(source)), bundled(entry(patchRrwebReplayPostcss(source)))]);
    const classes = /\.name=["'`]CssSyntaxError["'`]/g; // each copy's class sets its name once
    expect(count(before, classes)).toBe(2);
    expect(count(after, classes)).toBe(1);
    expect(after.length).toBeLessThan(before.length - 30_000);
    expect(after).toMatch(/export\s*\{[^}]*as Replayer/);
  });

  it('refuses a source it was not written for', () => {
    expect(() => patchRrwebReplayPostcss(source.replace('\npostcss.fromJSON;\n', '\n'))).toThrow(/does not apply/);
  });
});
