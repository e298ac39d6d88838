/**
 * patches/rrweb-replay-untainted-element.mjs against the installed @rrweb/replay: it applies exactly
 * (the build fails otherwise), leaves the rest of the file alone, is idempotent, and refuses a source
 * it was not written for. Its effect in a real browser (no hidden iframe in the dashboard during the
 * first live picture) is checked by e2e/tests/live-first-picture.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PATCH_MARKER, patchRrwebReplay, RRWEB_REPLAY_VERSION } from '../../patches/rrweb-replay-untainted-element.mjs';

// The hoisted install (npm workspaces), as Vite resolves it for the dashboard's build.
const pkgDir = new URL('../../node_modules/@rrweb/replay/', import.meta.url);
const pkgPath = new URL('package.json', pkgDir);
const source = readFileSync(new URL('dist/replay.js', pkgDir), 'utf8');

describe('rrweb replay patch: untainted Element check', () => {
  it('is written for the installed @rrweb/replay', () => {
    expect(JSON.parse(readFileSync(pkgPath, 'utf8')).version).toBe(RRWEB_REPLAY_VERSION);
  });

  it('tests shadowRoot as an accessor and querySelector(All) as methods, nothing else changed', () => {
    const out = patchRrwebReplay(source);
    expect(out).toContain(PATCH_MARKER);
    const accessors = /const testableAccessors = \{[\s\S]*?\n\};/.exec(out)![0];
    const methods = /const testableMethods = \{[\s\S]*?\n\};/.exec(out)![0];
    expect(accessors).toMatch(/Element: \["shadowRoot"\],/);
    expect(methods).toMatch(/Element: \["querySelector", "querySelectorAll"\],/);
    // Only those lines differ (plus the marker).
    const strip = (s: string) => s.replace(PATCH_MARKER, '').replace(/Element: \[[^\]]*\],/g, 'Element: X,').replace(/\s+/g, '');
    expect(strip(out)).toBe(strip(source));
    expect(patchRrwebReplay(out)).toBe(out);
  });

  it('refuses a source it was not written for', () => {
    expect(() => patchRrwebReplay(source.replace('Element: ["shadowRoot", "querySelector", "querySelectorAll"],', 'Element: ["shadowRoot"],'))).toThrow(/does not apply/);
  });
});
