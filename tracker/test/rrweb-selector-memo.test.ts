/**
 * The @rrweb/record patch of patches/rrweb-record-selector-memo.mjs, in real Chromium: the same page
 * and mutations recorded by rrweb bundled with and without the patch (the tracker's privacy options)
 * must give identical events (masking and blocking unchanged), while the patched one walks ancestors
 * (Element.closest) a bounded number of times instead of once or twice per added node.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchRrwebRecord, rrwebSelectorMemoPlugin } from '../../patches/rrweb-record-selector-memo.mjs';

const trackerDir = fileURLToPath(new URL('..', import.meta.url));
const DEPTH = 400;

const ENTRY = `
import { record } from '@rrweb/record';
import { buildPrivacyOptions } from './src/privacy.ts';
window.startRecording = (emit) => record({ emit, ...buildPrivacyOptions({}), slimDOMOptions: true, inlineStylesheet: true });
`;

async function bundle(patched: boolean): Promise<string> {
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: trackerDir, loader: 'js' },
    bundle: true,
    format: 'iife',
    target: ['es2020'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: patched ? [rrwebSelectorMemoPlugin()] : [],
  });
  return out.outputFiles[0].text;
}

const PAGE = `<!doctype html><html><head><title>memo</title></head><body>
<div id="root">
  <div id="masked" data-tandem-mask><p>secret text</p></div>
  <div id="blocked" data-tandem-block><span>hidden</span></div>
  <div id="plain"><p>visible</p></div>
  <form><input id="pw" type="password" value="hunter2"><input id="name" value="Ada"></form>
</div></body></html>`;

interface Outcome {
  events: unknown[];
  closest: number;
  /** Element.matches calls during the attribute storm (one batch) */
  stormMatches: number;
}

const STORM = 300;

/** Loads the page, starts rrweb, then runs mutations whose answers depend on ancestors; counts closest(). */
async function recordWith(browser: Browser, script: string): Promise<Outcome> {
  const page = await browser.newPage();
  try {
    await page.setContent(PAGE);
    await page.addScriptTag({ content: script });
    return await page.evaluate(async ([depth, STORM]) => {
      const w = window as unknown as { startRecording(emit: (e: unknown) => void): () => void };
      const events: { type: number; timestamp?: number; data: unknown }[] = [];
      const stop = w.startRecording((e) => events.push(e as (typeof events)[number]));
      await new Promise((r) => setTimeout(r, 50));
      let closest = 0;
      const original = Element.prototype.closest;
      Element.prototype.closest = function (this: Element, sel: string) {
        closest++;
        return original.call(this, sel);
      } as typeof original;
      const chain = (parent: Element, n: number, text: string) => {
        let at = parent;
        for (let i = 0; i < n; i++) {
          const el = document.createElement(i % 2 ? 'span' : 'div');
          el.setAttribute('data-level', String(i));
          if (i % 50 === 0) el.appendChild(document.createTextNode(`${text} ${i}`));
          at.appendChild(el);
          at = el;
        }
        return at;
      };
      // Deep chains appended level by level while attached: plain, masked, blocked.
      const plainLeaf = chain(document.getElementById('plain')!, depth, 'plain words');
      const maskedLeaf = chain(document.getElementById('masked')!, depth / 4, 'masked words');
      chain(document.getElementById('blocked')!, 20, 'blocked words');
      // A detached subtree attached at once, half of it under a masked element.
      const sub = document.createElement('section');
      for (let i = 0; i < 50; i++) {
        const li = document.createElement('div');
        if (i === 25) li.setAttribute('data-tandem-mask', '');
        li.innerHTML = `<b>item ${i}</b><i><u>deep ${i}</u></i>`;
        sub.appendChild(li);
      }
      plainLeaf.appendChild(sub);
      // Text and attribute changes under masked and plain ancestors, and new inputs.
      (document.querySelector('#masked p')!.firstChild as Text).data = 'new secret';
      (document.querySelector('#plain p')!.firstChild as Text).data = 'new visible';
      maskedLeaf.appendChild(document.createTextNode('leaf secret'));
      const pw = document.createElement('input');
      pw.type = 'password';
      pw.value = 'new password';
      plainLeaf.appendChild(pw);
      await new Promise((r) => setTimeout(r, 50));
      Element.prototype.closest = original;
      // Attribute storm, one batch: elements each given three attributes in a row (one record each),
      // under plain, masked and blocked parents, one blocked itself and one that becomes blocked midway.
      const hosts = ['plain', 'masked', 'blocked'].map((id) => document.getElementById(id)!);
      const els: HTMLElement[] = [];
      for (let i = 0; i < STORM; i++) {
        const el = document.createElement('em');
        el.textContent = `storm ${i}`;
        if (i % 5 === 0) el.setAttribute('style', 'color: green; margin: 1px; padding: 3px; border-top: 1px solid black');
        hosts[i % 3].appendChild(el);
        els.push(el);
      }
      els[3].setAttribute('data-tandem-block', '');
      await new Promise((r) => setTimeout(r, 50));
      let stormMatches = 0;
      const originalMatches = Element.prototype.matches;
      Element.prototype.matches = function (this: Element, sel: string) {
        stormMatches++;
        return originalMatches.call(this, sel);
      } as typeof originalMatches;
      els.forEach((el, i) => {
        el.setAttribute('data-a', `a${i}`);
        if (i === 6) el.setAttribute('data-tandem-block', '');
        el.className = `c${i}`;
        el.setAttribute('title', `storm title ${i}`);
        // Style changes among them (the patch makes their diff objects only for these): a property, one
        // with a priority, a whole style attribute, and a property removed again.
        if (i % 10 === 0) el.style.setProperty('color', i % 20 ? 'red' : 'blue', i % 30 ? '' : 'important');
        if (i % 15 === 0) el.setAttribute('style', `margin: ${i}px; padding: 2px`);
        if (i % 50 === 25) el.style.removeProperty('padding');
      });
      await new Promise((r) => setTimeout(r, 50));
      Element.prototype.matches = originalMatches;
      stop();
      // Timestamps differ between the two pages; everything else must not.
      return { events: events.filter((e) => e.type === 3).map((e) => ({ ...e, timestamp: 0 })), closest, stormMatches };
    }, [DEPTH, STORM]);
  } finally {
    await page.close();
  }
}

describe('rrweb patch: mask/block answers remembered per mutation batch', () => {
  let browser: Browser;
  let plain: Outcome;
  let patched: Outcome;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
    const [a, b] = await Promise.all([bundle(false), bundle(true)]);
    expect(a).not.toContain('memoSelfOrAncestor');
    expect(b).toContain('memoSelfOrAncestor'); // (comments, the marker included, do not survive bundling)
    plain = await recordWith(browser, a);
    patched = await recordWith(browser, b);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('records exactly the same events (masking, blocking and passwords unchanged)', () => {
    expect(plain.events.length).toBeGreaterThan(0);
    expect(patched.events).toEqual(plain.events);
    const json = JSON.stringify(patched.events);
    expect(json).toContain('plain words 50');
    expect(json).toContain('new visible');
    for (const secret of ['masked words', 'secret', 'blocked words', 'new password', 'deep 25', 'item 25']) expect(json).not.toContain(secret);
    expect(json).toContain('deep 24');
    // The storm: recorded for plain elements, never for the blocked ones (itself, or since midway).
    expect(json).toContain('storm title 0');
    // Style changes recorded as diffs (rrweb's style objects), the same with and without the patch.
    expect(json).toMatch(/"style":\{"color":"red"\}/);
    expect(json).toMatch(/"style":\{"color":"blue"\}/);
    expect(json).toContain('"style":"margin: 15px; padding: 2px"');
    for (const blocked of ['storm title 3"', 'storm title 6"']) expect(json).not.toContain(blocked);
  });

  it('asks matches(blockSelector) once per element for consecutive attribute records, not once per record', () => {
    // Unpatched: one matches() per record (3 per element); patched: the last element's answer is reused.
    expect(plain.stormMatches).toBeGreaterThanOrEqual(STORM * 3);
    expect(patched.stormMatches).toBeLessThanOrEqual(STORM + 5);
  });

  it('walks ancestors a bounded number of times instead of per added node', () => {
    // Unpatched: a closest() per added node for the mask selector and per mutation for the block one.
    expect(plain.closest).toBeGreaterThan(DEPTH * 2);
    // Patched: only where no parent answer is known yet (the first node of each batch's subtree).
    expect(patched.closest).toBeLessThan(40);
  });

  it('fails loudly on an rrweb build it was not written for, and applies once', () => {
    expect(() => patchRrwebRecord('function needMaskingText() {}')).toThrow(/does not apply/);
    const src = readFileSync(fileURLToPath(import.meta.resolve('@rrweb/record')), 'utf8');
    const once = patchRrwebRecord(src);
    expect(patchRrwebRecord(once)).toBe(once);
  });
});
