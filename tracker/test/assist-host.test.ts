import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ASSIST_HOST_BLOCK_ATTRIBUTE,
  ASSIST_HOST_CLASS,
  ASSIST_HOST_TAG,
  assist,
  type AssistHost,
  type AssistPlugin,
} from '@tandem/assist-plugin';
import { BLOCK_ATTRIBUTE_SELECTOR, buildPrivacyOptions } from '../src/privacy.js';
import { Tracker, type TrackerPlugin } from '../src/tracker.js';

// Compile-time: the Tracker is an AssistHost, and the plugin is a TrackerPlugin (tsc checks this file).
const hostCheck = (t: Tracker): AssistHost => t;
const pluginCheck = (p: AssistPlugin): TrackerPlugin => p;

describe('assist plugin in the tracker', () => {
  it('Tracker satisfies the structural AssistHost (including the optional hooks)', () => {
    expectTypeOf<Tracker>().toExtend<AssistHost>();
    expectTypeOf<AssistPlugin>().toExtend<TrackerPlugin>();
    expectTypeOf<Tracker['currentPage']>().toExtend<NonNullable<AssistHost['currentPage']>>();
    expectTypeOf<Tracker['getMirror']>().toExtend<NonNullable<AssistHost['getMirror']>>();
    expectTypeOf<Tracker['ignoreNetwork']>().toExtend<NonNullable<AssistHost['ignoreNetwork']>>();
    expectTypeOf<Tracker['reportError']>().toExtend<NonNullable<AssistHost['reportError']>>();
    expect(typeof hostCheck).toBe('function');
    expect(typeof pluginCheck).toBe('function');
  });

  it('the banner host is blocked by the recorder: rrweb blockClass and the tracker blockSelector', () => {
    expect(ASSIST_HOST_TAG).toBe('tandem-assist');
    expect(ASSIST_HOST_CLASS).toBe('rr-block'); // rrweb's default blockClass (the tracker keeps the default)
    expect(`[${ASSIST_HOST_BLOCK_ATTRIBUTE}]`).toBe(BLOCK_ATTRIBUTE_SELECTOR);
    for (const privacy of ['default', 'strict'] as const) {
      expect(buildPrivacyOptions({ privacy, blockSelector: '.mine' }).blockSelector).toContain(BLOCK_ATTRIBUTE_SELECTOR);
      expect('blockClass' in buildPrivacyOptions({ privacy })).toBe(false);
    }
  });

  it('use(assist()) registers it by name; a disabled tracker opens no socket', () => {
    const t = new Tracker({ projectKey: 'pk', ingestUrl: 'https://h.test', onError: () => {} });
    const p = assist();
    t.use(p);
    expect(t.plugin('assist')).toBe(p);
    expect(p.assistState()).toMatchObject({ enabled: true, connected: false, forwarding: false, sentMessages: 0 });
  });

  it('ignoreNetwork adds prefixes once; currentPage has the identified user', () => {
    const t = new Tracker({ projectKey: 'pk', ingestUrl: 'https://h.test', onError: () => {} });
    t.ignoreNetwork('https://live.test/socket.io/');
    t.ignoreNetwork('https://live.test/socket.io/');
    const ignore = (t as unknown as { networkIgnore: string[] }).networkIgnore;
    expect(ignore).toEqual(['https://h.test/ingest/', 'https://h.test/socket.io/', 'https://live.test/socket.io/']);
    t.identify('u-7');
    expect(t.currentPage()).toMatchObject({ userId: 'u-7' });
  });
});
