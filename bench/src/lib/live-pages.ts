/**
 * Pages and in-page scripts of the browser live benches (live-latency, join).
 *
 * Clock: every time stamp is `performance.timeOrigin + performance.now()` — never Date, which the skew
 * runs patch in the user's page. In one Chromium the pages share that clock (checked per run against the
 * real Date.now saved before any patch).
 */
import { bigPage } from './fixtures.js';

/** A distinct text per mutation: `live-mark-12-end` is never a substring of another mark. */
export const MARK_RE_SOURCE = 'live-mark-(\\d+)-end';
export const markText = (k: number) => `live-mark-${k}-end`;

/** Every mark number in a text (e.g. one socket frame), in order. */
export function marksIn(text: string): number[] {
  const out: number[] = [];
  const re = new RegExp(MARK_RE_SOURCE, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(Number(m[1]));
  return out;
}

/** Text shown by every user page; the join bench waits for it in the agent's replay iframe. */
export const READY_TEXT = 'Tandem bench: the page the user sees';

/**
 * The user's page: a heading with a known text, a counter span the latency bench changes, and
 * optionally `nodes` more DOM nodes (a parser-built page of tables, lists and forms). /tracker.js is
 * loaded from the backend's origin as the snippet does (autostart; the assist plugin is part of it).
 */
export function liveUserPage(projectKey: string, nodes = 0): string {
  let body = '';
  if (nodes > 0) {
    const html = bigPage(nodes);
    body = html.slice(html.indexOf('<body>') + '<body>'.length, html.lastIndexOf('</body>'));
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>Bench user page</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:16px} #counter{font:600 20px monospace}
.row{display:flex;gap:4px} td{border:1px solid #ddd;padding:2px 4px}</style></head>
<body><h1 id="join-ready">${READY_TEXT}</h1><p>Counter: <span id="counter">live-mark-0-end</span></p>${body}
<script src="/tracker.js" data-project-key="${projectKey}" async></script></body></html>`;
}

/**
 * Init script for every bench page: saves the real Date.now (before any patch) so the run can check the
 * shared clock, and adds the `__name` shim tsx needs for functions passed to page.evaluate.
 */
export const CLOCK_INIT = `
  globalThis.__name = globalThis.__name || ((fn) => fn);
  window.__realDateNow = Date.now.bind(Date);
  window.__benchNow = () => performance.timeOrigin + performance.now();
`;

/**
 * Shifts the page's Date (Date.now and new Date()) by `offsetMs`, as on a user's machine whose clock is
 * wrong; performance.now and performance.timeOrigin are left alone, as on real machines.
 */
export function skewClockScript(offsetMs: number): string {
  return `(() => {
    const RealDate = Date;
    const offset = ${offsetMs};
    class SkewedDate extends RealDate {
      constructor(...args) { if (args.length === 0) super(RealDate.now() + offset); else super(...args); }
      static now() { return RealDate.now() + offset; }
    }
    globalThis.Date = SkewedDate;
  })();`;
}

/**
 * Taps the page's WebSockets: the first time each mark is seen in an outgoing frame (`__wsSend`) or an
 * incoming one (`__wsRecv`), stamped before the page's own handlers run. socket.io sends its packets as
 * text frames, so the mark a mutation carries is readable there.
 */
export const WS_TAP_INIT = `(() => {
  const RE = new RegExp(${JSON.stringify(MARK_RE_SOURCE)}, 'g');
  const now = () => performance.timeOrigin + performance.now();
  window.__wsSend = {}; window.__wsRecv = {}; window.__wsFrames = { sent: 0, recv: 0 };
  const scan = (text, into) => {
    if (typeof text !== 'string' || text.indexOf('live-mark-') < 0) return;
    const t = now();
    RE.lastIndex = 0;
    let m;
    while ((m = RE.exec(text))) if (!(m[1] in into)) into[m[1]] = t;
  };
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) { window.__wsFrames.sent++; scan(data, window.__wsSend); return send.call(this, data); };
  function Tapped(...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', (e) => { window.__wsFrames.recv++; scan(e.data, window.__wsRecv); });
    return ws;
  }
  Tapped.prototype = Orig.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Tapped[k] = Orig[k];
  window.WebSocket = Tapped;
})();`;

/**
 * In the agent's page: watches the live stage's replay iframe (same origin) for the counter's text.
 * `__seen[k]` = when a MutationObserver first saw mark k in the iframe's document; `__drawn[k]` = when the
 * rendering update that paints it has finished. rrweb's Replayer applies live events inside its own
 * requestAnimationFrame callback, and a change made there is painted in that same frame; a change made in
 * an ordinary task is painted in the next one. So: a frame loop started before the dashboard's scripts
 * (its callback runs first in every frame) marks "inside a frame" until a timer task right after that
 * frame's rendering; a change seen inside a frame is drawn at that timer, any other at the timer after
 * the next frame. Re-attaches when the iframe or its document is replaced (resync, remount).
 */
export const STAGE_WATCH_INIT = `(() => {
  const RE = new RegExp(${JSON.stringify(MARK_RE_SOURCE)});
  const now = () => performance.timeOrigin + performance.now();
  window.__seen = {}; window.__drawn = {}; window.__stageAttach = 0; window.__seenInFrame = 0;
  let inFrame = false;
  const afterFrame = [];
  const frame = () => {
    inFrame = true;
    setTimeout(() => {
      inFrame = false;
      const t = now();
      for (const k of afterFrame.splice(0)) window.__drawn[k] = t;
    }, 0);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  let doc = null, obs = null;
  const check = () => {
    const el = doc && doc.getElementById('counter');
    const m = el && RE.exec(el.textContent || '');
    if (!m || m[1] in window.__seen) return;
    const k = m[1];
    window.__seen[k] = now();
    if (inFrame) { window.__seenInFrame++; afterFrame.push(k); }
    else requestAnimationFrame(() => afterFrame.push(k));
  };
  const attach = () => {
    const iframe = document.querySelector('[data-testid="live-stage"] iframe');
    const d = iframe && iframe.contentDocument;
    if (d === doc) return;
    if (obs) obs.disconnect();
    doc = d; obs = null;
    if (!d) return;
    obs = new MutationObserver(check);
    obs.observe(d, { subtree: true, childList: true, characterData: true });
    window.__stageAttach++;
    check();
  };
  setInterval(attach, 50);
})();`;

export interface MarkTimes {
  /** user page: the mutation (text set) */
  sent: Record<string, number>;
  /** user page: first outgoing socket frame carrying the mark */
  wsSend: Record<string, number>;
  /** agent page: first incoming socket frame carrying the mark */
  wsRecv: Record<string, number>;
  /** agent page: MutationObserver saw the mark in the replay iframe */
  seen: Record<string, number>;
  /** agent page: the animation frame after `seen` */
  drawn: Record<string, number>;
}

export interface LatencySplit {
  marks: number;
  /** mutation → drawn, per mark that was drawn */
  total: number[];
  /** mutation → the user's socket frame (rrweb record + tracker bus + assist plugin) */
  userSide: number[];
  /** user's frame → agent's frame (network + socket.io + the backend's relay): the raw socket round trip */
  relay: number[];
  /** agent's frame → in the replay iframe's DOM (socket.io dispatch + the dashboard + rrweb Replayer) */
  agentApply: number[];
  /** DOM → next animation frame */
  frame: number[];
  /** marks never drawn, nor any later mark (the view stopped following) */
  missing: number[];
  /**
   * marks whose own text never showed because a later mark replaced it before the observer ran (both in
   * one socket message); their latency is counted up to the frame that drew the later mark.
   */
  superseded: number;
  /** marks drawn whose frames the taps did not see (the split is then partial) */
  untapped: number;
}

/** Per-mark latencies of marks `from..to` (inclusive) from the in-page time stamps. */
export function splitLatencies(t: MarkTimes, from: number, to: number): LatencySplit {
  const s: LatencySplit = { marks: 0, total: [], userSide: [], relay: [], agentApply: [], frame: [], missing: [], superseded: 0, untapped: 0 };
  // Earliest drawn time of any mark at or after k (a later text replaces an earlier one).
  const laterDrawn: number[] = [];
  let best = Infinity;
  for (let k = to; k >= from; k--) {
    const d = t.drawn[k];
    if (d !== undefined && d < best) best = d;
    laterDrawn[k - from] = best;
  }
  for (let k = from; k <= to; k++) {
    const sent = t.sent[k];
    if (sent === undefined) continue;
    s.marks++;
    const drawn = t.drawn[k];
    if (drawn === undefined) {
      const later = laterDrawn[k - from];
      if (Number.isFinite(later)) {
        s.superseded++;
        s.total.push(later - sent);
      } else s.missing.push(k);
      continue;
    }
    s.total.push(drawn - sent);
    const ws = t.wsSend[k];
    const wr = t.wsRecv[k];
    const seen = t.seen[k];
    if (seen !== undefined) s.frame.push(drawn - seen);
    if (ws === undefined || wr === undefined || seen === undefined) {
      s.untapped++;
      continue;
    }
    s.userSide.push(ws - sent);
    s.relay.push(wr - ws);
    s.agentApply.push(seen - wr);
  }
  return s;
}

/**
 * In the agent's page, from its first script: stamps (ms since navigation start, the page's time origin)
 * when the live view first says data-state=live (`__liveAt`), when the replay iframe first shows the user
 * page's known text (`__firstFrame`: the end of the rendering update that paints it), and when
 * `listSelector` first matches (`__listAt`, for the live list baseline). Checked in a timer task right
 * after each frame's rendering (rrweb draws inside its own animation-frame callback, after this one's:
 * what the DOM holds then is what that frame painted).
 */
export function joinWatchInit(listSelector: string): string {
  return `(() => {
  const READY = ${JSON.stringify(READY_TEXT)};
  const LIST = ${JSON.stringify(listSelector)};
  window.__liveAt = null; window.__firstFrame = null; window.__listAt = null;
  const t0 = performance.now();
  const ready = () => {
    const iframe = document.querySelector('[data-testid="live-stage"] iframe');
    const el = iframe && iframe.contentDocument && iframe.contentDocument.getElementById('join-ready');
    return !!el && (el.textContent || '').indexOf(READY) >= 0;
  };
  const seen = (now) => {
    if (window.__listAt === null && document.querySelector(LIST)) window.__listAt = now;
    if (window.__liveAt === null && document.querySelector('[data-testid="live-view"][data-state="live"]')) window.__liveAt = now;
    if (window.__firstFrame === null && ready()) window.__firstFrame = now;
  };
  const loop = () => {
    // What is in the DOM by the end of this frame's rendering is painted: stamp it then.
    setTimeout(() => seen(performance.now()), 0);
    if (performance.now() - t0 < 60000 && (window.__firstFrame === null || window.__listAt === null)) requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})();`;
}

/**
 * In the agent's page (join bench): when its socket was created and opened, when it sent `live:join`, and when the first
 * `live:events` frame (the user's Meta + FullSnapshot) arrived, in ms since navigation start.
 */
export const JOIN_WS_TAP_INIT = `(() => {
  window.__wsCreated = null; window.__wsOpen = null; window.__joinSent = null; window.__firstEvents = null;
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) {
    // live:join, or the namespace handshake carrying the join (AgentHandshake.join, early-join.ts).
    if (window.__joinSent === null && typeof data === 'string' && (data.indexOf('"live:join"') >= 0 || (data.startsWith('40') && data.indexOf('"join":{') >= 0))) window.__joinSent = performance.now();
    return send.call(this, data);
  };
  function Tapped(...args) {
    if (window.__wsCreated === null) window.__wsCreated = performance.now();
    const ws = new Orig(...args);
    ws.addEventListener('open', () => { if (window.__wsOpen === null) window.__wsOpen = performance.now(); });
    ws.addEventListener('message', (e) => {
      if (window.__firstEvents === null && typeof e.data === 'string' && e.data.indexOf('"live:events"') >= 0) window.__firstEvents = performance.now();
    });
    return ws;
  }
  Tapped.prototype = Orig.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Tapped[k] = Orig[k];
  window.WebSocket = Tapped;
})();`;
