import type { Replayer } from '@rrweb/replay';
import type { AssetSignRequest, AssetSignResponse, ReplayWindow, TandemEvent } from '@tandem/protocol';
import { ReplayAssets } from '../replay';
import { fitScale } from '../stage';
import { DeferredScrolls } from './deferred-scroll';
import { readOpenStream, type OpenStream } from './open-stream';
import { fastForward } from './position';
import { canMoveBuiltReplay, createReplayer, type FrameSize } from './replayer';
import { outsideSnapshotGaps, planWindows, snapshotGaps, windowAt } from './windows';

/**
 * A share link's first frame before the app (issue 10: the 6-hour open at a random moment).
 *
 * index.html's inline script asks for `/open` (detail + the window the link needs) as the document
 * starts, and, in a build, writes this chunk into the parser as a module script (vite.config.ts,
 * `sessionEarlyFrame`): it runs before the app's entry and takes that answer. When the window's events are
 * in it builds the paused Replayer at the link's moment, exactly as the player would (createReplayer,
 * the asset proxy's links, the deferred scrolls, `pause(t)`), in a stage of its own over the place the
 * player will take, so the drawn frame waits neither for the app's boot nor for the session page's render
 * on the main thread. The session page then adopts it (`takeEarlyOpen` for the detail and the stream,
 * `takeEarlyFrame` for the built Replayer: pages/session): the same iframe moves into the player's stage
 * (`moveBefore`, which keeps its page), and the page builds no second one. Nothing here runs unless the
 * inline script asked for it (a build, a share link with `t`), so in development the page does it all.
 */

declare global {
  interface Window {
    /** set by index.html's inline script: the `/open` path whose answer this chunk takes */
    __tandemEarlyFrame?: string;
    /** settles once the early frame is painted (or will not be): the app's entry is loaded after it (below) */
    __tandemEarlyHold?: Promise<void>;
    /** the build's loader of the app's entry (vite.config.ts `sessionEarlyFrame`): called once the frame is painted */
    __tandemLoadApp?: () => void;
  }
}

export interface EarlyFrame {
  tabId: string;
  window: ReplayWindow;
  /** ms since the tab's first event: the moment shown */
  target: number;
  /** the window's events (asset links already rewritten) */
  events: TandemEvent[];
  replayer: Replayer;
  /** the Replayer's root, in the early stage until adopted */
  host: HTMLElement;
  /** ms since the tab's start of the Replayer's time 0 (its first event) */
  base: number;
  /** the recorded viewport (the window's Meta event) */
  size: FrameSize | null;
  /** the fixed stage over the player's place that shows it until the page adopts it */
  overlay: HTMLElement;
}

/** The open's answer: its stream when it is one, else the response (an error status) or null (no answer) for the app. */
export type EarlyOpened = { stream: OpenStream } | { response: Response | null };

interface Early {
  path: string;
  sessionId: string;
  opened: Promise<EarlyOpened>;
  frame: Promise<EarlyFrame | null>;
  openTaken: boolean;
  frameTaken: boolean;
  onHash: () => void;
}

/** A frame no page took by then (the app went elsewhere) is removed. */
const UNCLAIMED_MS = 20_000;
/** The player's inset around the replayed page (PlayerView.svelte). */
const INSET = 16;

let early: Early | null = null;

/**
 * The session page's player viewport (PlayerView's `.replay-viewport`) as fixed insets from the window's edges,
 * from the page's CSS: the top bar (App.svelte) and the session header (SessionHeader.svelte) above; the body's
 * padding (SessionPage.svelte `.body`: 16px 20px 20px), the player card's border and padding (app.css `.card`,
 * `.player`: 1 + 10) around; the side panels (420 + a 16px gap) on the right above 1000 px; under it the gap and
 * the scrubber with the controls (`.bar`). The header's and the bar's heights are their rendered ones (text
 * lines): if either changes, the e2e test that compares the early and the adopted frame's boxes says so.
 */
const TOP_BAR = 52;
const SESSION_HEADER = 68.5;
const PLAYER_BAR = 96;
const CARD = 1 + 10;
export function playerBox(width: number, height: number): { left: number; top: number; right: number; bottom: number } {
  const top = TOP_BAR + SESSION_HEADER + 16 + CARD;
  if (width > 1000) return { left: 20 + CARD, top, right: 20 + 420 + 16 + CARD, bottom: 20 + CARD + 10 + PLAYER_BAR };
  // One column: the player card is 520 px tall (`.player` min-height) and the page scrolls under it.
  return { left: 20 + CARD, top, right: 20 + CARD, bottom: Math.max(0, height - top - (520 - 2 * CARD - 10 - PLAYER_BAR)) };
}

/** The open's answer, if this chunk took it for exactly `path`; once. */
export function takeEarlyOpen(path: string): Promise<EarlyOpened> | null {
  if (!early || early.openTaken || early.path !== path) return null;
  early.openTaken = true;
  const opened = early.opened;
  forgetWhenTaken();
  return opened;
}

/** The frame built before the app (null when none was or could be); once. The caller adopts or discards it. */
export function takeEarlyFrame(): Promise<EarlyFrame | null> | null {
  if (!early || early.frameTaken) return null;
  early.frameTaken = true;
  const frame = early.frame;
  window.removeEventListener('hashchange', early.onHash);
  forgetWhenTaken();
  return frame;
}

/** Both handed over: nothing here keeps the window's events alive any more (the page's window cache decides). */
function forgetWhenTaken(): void {
  if (early?.openTaken && early.frameTaken) early = null;
}

/** The frame's early stage is no longer needed: the page moved the replay into its own stage (or discarded it). */
export function releaseEarlyStage(frame: EarlyFrame): void {
  frame.overlay.remove();
}

export function discardEarlyFrame(frame: EarlyFrame): void {
  try {
    frame.replayer.destroy();
  } catch {
    // its wrapper is already gone
  }
  frame.host.remove();
  releaseEarlyStage(frame);
}

function sessionOfHash(hash: string): string | null {
  return /^#\/sessions\/([A-Za-z0-9_-]+)\/?(?:\?.*)?$/.exec(hash)?.[1] ?? null;
}

function start(path: string): void {
  const answer = window.__tandemEarly?.[path];
  const sessionId = sessionOfHash(location.hash);
  if (!answer || !sessionId || !canMoveBuiltReplay()) return;
  delete window.__tandemEarly![path];
  const opened: Promise<EarlyOpened> = answer.then(
    (r) => (r.ok && r.body ? { stream: readOpenStream(r.body) } : { response: r }),
    () => ({ response: null }),
  );
  const state: Early = { path, sessionId, opened, frame: Promise.resolve(null), openTaken: false, frameTaken: false, onHash: () => {} };
  early = state;
  state.frame = opened.then((o) => ('stream' in o ? build(state, o.stream) : null)).catch(() => null);
  // The app waits for the frame's paint (its entry is loaded after it, below): on 2 busy cores its boot and the session page's render
  // ran in the same main thread before the frame (measured: the early frame built ~95 ms after `/open`'s
  // end, behind the app's tasks); held, the frame is drawn first and the app renders around it after.
  window.__tandemEarlyHold = state.frame.then((frame) => (frame ? new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))) : undefined));
  void state.frame.then((frame) => {
    if (!frame) return;
    setTimeout(() => {
      if (!state.frameTaken) discardEarlyFrame(frame);
    }, UNCLAIMED_MS);
  });
  // Gone elsewhere before the app took it: nothing of it stays on screen.
  state.onHash = () => {
    if (!state.frameTaken && sessionOfHash(location.hash) !== sessionId) void state.frame.then((f) => f && discardEarlyFrame(f));
  };
  window.addEventListener('hashchange', state.onHash);
}

/**
 * ApiClient.signAssets without the ApiClient: this chunk runs before the app and keeps the app's client (and what it
 * imports) out of its own closure; a failure is reported so the page builds the frame itself.
 */
async function signAssets(request: AssetSignRequest, failed: () => void): Promise<AssetSignResponse> {
  const r = await fetch('/api/v1/assets/sign', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (!r.ok) {
    failed();
    throw new Error(`asset links: ${r.status}`);
  }
  return (await r.json()) as AssetSignResponse;
}

async function build(state: Early, stream: OpenStream): Promise<EarlyFrame | null> {
  // The answer's first line (tabs, keyframes, the moment and its window): the session's detail comes after the events.
  const head = await stream.frame;
  const tab = head.tabs.find((t) => t.tabId === head.tabId);
  if (!tab || !head.window) return null;
  // The moment and window as the player will pick them (PlayerController.#goto); a different answer is the page's to build.
  const tabTime = Math.max(0, tab.endedAt - tab.startedAt);
  const target = outsideSnapshotGaps(snapshotGaps(tab, head.keyframes), Math.min(tabTime, Math.max(0, head.offset)));
  const planned = windowAt(planWindows(tab, head.keyframes), target);
  if (planned.fromSeq !== head.window.fromSeq || planned.toSeq !== head.window.toSeq) return null;
  const events = await stream.events;
  performance.mark('tandem:early-events');
  let signFailed = false;
  await new ReplayAssets((request) => signAssets(request, () => (signFailed = true))).rewrite(events);
  performance.mark('tandem:early-assets');
  if (signFailed || events.length === 0 || sessionOfHash(location.hash) !== state.sessionId) return null;

  // The chunk runs as soon as its modules are in (index.html writes it async), perhaps before the parser has reached <body>.
  if (!document.body) await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  const overlay = document.createElement('div');
  overlay.className = 'replay-viewport';
  overlay.dataset.testid = 'player-early';
  // Exactly over the place the session page gives its player, so taking it over moves nothing (e2e player-early-frame).
  const box = playerBox(innerWidth, innerHeight);
  Object.assign(overlay.style, { position: 'fixed', left: `${box.left}px`, top: `${box.top}px`, right: `${box.right}px`, bottom: `${box.bottom}px`, zIndex: '5' });
  const stage = document.createElement('div');
  stage.className = 'replay-stage';
  const host = document.createElement('div');
  host.className = 'replay-host';
  host.style.display = 'none';
  stage.append(host);
  overlay.append(stage);
  document.body.append(overlay);
  try {
    return await draw(events, host, stage, overlay, box, { tabId: tab.tabId, window: planned, target, base: events[0].timestamp - tab.startedAt });
  } catch (err) {
    overlay.remove(); // the page builds the frame itself
    throw err;
  }
}

async function draw(
  events: TandemEvent[],
  host: HTMLElement,
  stage: HTMLElement,
  overlay: HTMLElement,
  box: { left: number; top: number; right: number; bottom: number },
  at: Pick<EarlyFrame, 'tabId' | 'window' | 'target' | 'base'>,
): Promise<EarlyFrame> {
  const { target } = at;
  const replayer = createReplayer(events, host, 1);
  const frame: EarlyFrame = { ...at, events, replayer, host, size: null, overlay };
  replayer.on('resize', (size) => {
    const { width, height } = size as FrameSize;
    if (width > 0 && height > 0) frame.size = { width, height };
  });
  performance.mark('tandem:early-built');
  const scrolls = new DeferredScrolls(replayer.iframe.contentWindow);
  await fastForward(replayer, events, Math.max(0, target - frame.base), scrolls, () => true, false);
  performance.mark('tandem:early-paused');
  // rrweb rebuilds the snapshot into a document it `open()`s and never closes: an iframe still loading,
  // which holds the dashboard's own load event (and the tab's spinner) for as long as it stays. The page's
  // player builds after that event; this frame comes before it, so its document is closed here (as
  // rrweb itself does before it opens it again).
  replayer.iframe.contentDocument?.close();
  if (frame.size) {
    const scale = fitScale(frame.size, innerWidth - box.left - box.right, innerHeight - box.top - box.bottom, INSET);
    Object.assign(stage.style, { width: `${frame.size.width}px`, height: `${frame.size.height}px`, transform: `translate(-50%, -50%) scale(${scale})` });
  }
  stage.classList.add('ready');
  host.style.display = '';
  scrolls.flush();
  performance.mark('tandem:early-positioned');
  return frame;
}

/** The app is not held longer than this for a frame: its entry (main.ts) is loaded then at the latest. */
const HOLD_MS = 1_000;

if (typeof window !== 'undefined' && window.__tandemEarlyFrame) {
  try {
    start(window.__tandemEarlyFrame);
  } finally {
    // The app's JS loads once the frame is painted, at once when there is none, and after HOLD_MS at the latest.
    const hold = window.__tandemEarlyHold ?? Promise.resolve();
    // Its loader is the last script of <head>: not parsed yet when this ran early and there was no frame to draw.
    const parsed = document.readyState === 'loading' ? new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true })) : null;
    void Promise.race([hold, new Promise((resolve) => setTimeout(resolve, HOLD_MS))]).then(() => parsed).then(() => window.__tandemLoadApp?.());
  }
}
