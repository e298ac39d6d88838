/**
 * The rrweb patch the tracker's build applies (tracker/patches/rrweb-record.mjs): with Tandem's block and
 * mask selectors set, rrweb walked every added node's ancestors twice per check (closest() for the class,
 * then for the selector). In real Chromium, the same @rrweb/record bundled with and without the patch
 * records a deep insertion: the patched one makes at most half the closest() calls and records exactly
 * the same events (blocked and masked alike).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';

const REPO = resolve(__dirname, '../..');

interface Recorded {
  closestCalls: number;
  addedNodes: number;
  events: unknown[];
}

let browser: Browser;
let dir: string;
const bundles: { patched?: string; plain?: string } = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-rrweb-patch-'));
  const entry = join(dir, 'entry.js');
  // The tracker's own record options (privacy defaults: [data-tandem-block], [data-tandem-mask]).
  writeFileSync(
    entry,
    `import { record } from '@rrweb/record';
import { buildPrivacyOptions } from '${REPO}/tracker/src/privacy.ts';
window.startRecording = (emit) => record({ emit, ...buildPrivacyOptions({}), slimDOMOptions: true });`,
  );
  const { rrwebRecordPatch } = (await import(`${REPO}/tracker/patches/rrweb-record.mjs`)) as { rrwebRecordPatch: never };
  for (const [name, plugins] of [['patched', [rrwebRecordPatch]], ['plain', []]] as const) {
    const out = join(dir, `${name}.js`);
    await build({ entryPoints: [entry], outfile: out, bundle: true, format: 'iife', target: ['es2020'], nodePaths: [join(REPO, 'node_modules')], plugins: [...plugins], logLevel: 'warning' });
    bundles[name] = out;
  }
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function record(bundle: string): Promise<Recorded> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>');
    await page.addScriptTag({ path: bundle });
    return await page.evaluate(async () => {
      const w = window as unknown as { startRecording(emit: (e: unknown) => void): () => void };
      const events: unknown[] = [];
      w.startRecording((e) => events.push(e));
      await new Promise((r) => setTimeout(r, 50)); // the full snapshot is taken
      let closestCalls = 0;
      const closest = Element.prototype.closest;
      Element.prototype.closest = function (this: Element, sel: string) {
        closestCalls++;
        return closest.call(this, sel);
      };
      const mark = events.length;
      const root = document.getElementById('root')!;
      let added = 0;
      // Three chains 300 deep; the second under a masked element, the third under a blocked one.
      for (let c = 0; c < 3; c++) {
        let parent: Element = document.createElement('div');
        if (c === 1) parent.setAttribute('data-tandem-mask', '');
        if (c === 2) parent.setAttribute('data-tandem-block', '');
        root.appendChild(parent);
        added++;
        for (let d = 0; d < 300; d++) {
          const child = document.createElement('div');
          child.className = 'd';
          if (d % 50 === 0) child.appendChild(document.createTextNode(`level ${d} secret`)), added++;
          parent.appendChild(child);
          added++;
          parent = child;
        }
      }
      await null; // rrweb's MutationObserver callback has run
      Element.prototype.closest = closest;
      return { closestCalls, addedNodes: added, events: events.slice(mark).map((e) => ({ ...(e as object), timestamp: 0 })) };
    });
  } finally {
    await context.close();
  }
}

describe('rrweb patch: one closest() per block/mask check', () => {
  it('halves the ancestor walks of a deep insertion and records the same events', async () => {
    const patched = await record(bundles.patched!);
    const plain = await record(bundles.plain!);
    expect(patched.events.length).toBeGreaterThan(0);
    // The masked chain's text is masked and the blocked chain is a placeholder, patched or not.
    expect(patched.events).toEqual(plain.events);
    const json = JSON.stringify(patched.events);
    expect(json).toContain('level 0 secret'); // unmasked chain
    expect(json).toContain('*****'); // masked chain
    // Per added node, at most one walk for the block check of its mutation record and one for the
    // mask check of its serialisation; unpatched rrweb makes two of each.
    expect(patched.closestCalls).toBeLessThanOrEqual(2 * patched.addedNodes);
    expect(plain.closestCalls).toBeGreaterThan(1.5 * patched.closestCalls);
  }, 60_000);
});
