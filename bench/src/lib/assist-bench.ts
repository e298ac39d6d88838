/**
 * Shared pieces of the assist-over-WebRTC benches (control-latency, call-setup, canvas-video): Chromium's
 * WebRTC/fake-media flags, the user pages, in-page probes, and the pure arithmetic the bench tests check.
 *
 * Clock: every stamp is `performance.timeOrigin + performance.now()`, shared by every page of one Chromium
 * (the live benches check this; see live-pages.ts).
 */
import type { Page } from 'playwright-core';
import { waitFor } from './live-browser.js';
import { READY_TEXT } from './live-pages.js';

/** DESIGN.md §8: fake camera + microphone, no permission prompt, loopback ICE candidates, autoplay. */
export const WEBRTC_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

/** The control bench's user page: one big button whose click handler stamps `__fired`. */
export function controlUserPage(projectKey: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Bench control page</title>
<style>body{font:16px system-ui,sans-serif;margin:24px} #target{width:360px;height:160px;font-size:24px}</style></head>
<body><h1 id="join-ready">Tandem bench: control</h1>
<button id="target">Press</button><p id="count">0</p>
<script>
  window.__fired = [];
  document.getElementById('target').addEventListener('click', () => {
    window.__fired.push(performance.timeOrigin + performance.now());
    document.getElementById('count').textContent = String(window.__fired.length);
  });
</script>
<script src="/tracker.js" data-project-key="${projectKey}" async></script></body></html>`;
}

/** A page with one 2D canvas redrawn at `fps` (a moving square and a frame counter); `__drawn` counts frames. */
export function canvasUserPage(projectKey: string, fps = 30): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Bench canvas page</title>
<style>body{font:16px system-ui,sans-serif;margin:24px} canvas{border:1px solid #333}</style></head>
<body><h1 id="join-ready">${READY_TEXT}</h1>
<canvas id="c" width="480" height="270"></canvas>
<script>
  window.__drawn = 0;
  const ctx = document.getElementById('c').getContext('2d');
  let f = 0;
  setInterval(() => {
    f++;
    ctx.fillStyle = '#123'; ctx.fillRect(0, 0, 480, 270);
    ctx.fillStyle = 'hsl(' + (f * 9) % 360 + ',90%,60%)'; ctx.fillRect((f * 6) % 440, 110, 40, 40);
    ctx.fillStyle = '#fff'; ctx.font = '16px monospace'; ctx.fillText('frame ' + f, 10, 22);
    window.__drawn++;
  }, ${1000 / fps});
</script>
<script src="/tracker.js" data-project-key="${projectKey}" async></script></body></html>`;
}

/** Collects every RTCPeerConnection of the page into `window.__pcs` (the user's, created in the plugin's chunk). */
export const PC_TAP_INIT = `(() => {
  const Orig = window.RTCPeerConnection;
  if (!Orig || Orig.__tapped) return;
  window.__pcs = [];
  class Tapped extends Orig { constructor(...a) { super(...a); window.__pcs.push(this); } }
  Tapped.__tapped = true;
  window.RTCPeerConnection = Tapped;
})();`;

/**
 * Taps the page's WebSockets for control input: `__ctlSend` / `__ctlRecv` get a stamp per socket.io frame
 * carrying a `control:input` of type click (agent's outgoing, user's incoming), before the page's handlers.
 * `__clickAt` stamps every trusted click the page's window sees first (capture), i.e. the agent's input.
 */
export const CONTROL_TAP_INIT = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__ctlSend = []; window.__ctlRecv = []; window.__clickAt = [];
  const isClick = (d) => typeof d === 'string' && d.indexOf('control:input') >= 0 && /"type":"click"/.test(d);
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) { if (isClick(data)) window.__ctlSend.push(now()); return send.call(this, data); };
  function Tapped(...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', (e) => { if (isClick(e.data)) window.__ctlRecv.push(now()); });
    return ws;
  }
  Tapped.prototype = Orig.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Tapped[k] = Orig[k];
  window.WebSocket = Tapped;
  window.addEventListener('click', (e) => { if (e.isTrusted) window.__clickAt.push(now()); }, true);
})();`;

export interface ControlSplit {
  inputs: number;
  /** agent's click → the click handler ran on the user's page */
  total: number[];
  /** agent's click → its socket frame (dashboard: overlay, node lookup, emit) */
  agentSide: number[];
  /** agent's frame → the user's frame: the raw socket relay through the backend (holder check included) */
  relay: number[];
  /** user's frame → the handler ran (socket.io dispatch, plugin, target lookup, synthetic event) */
  userSide: number[];
  /** inputs that never fired on the user's page */
  missing: number;
}

/** Pairs the k-th agent click with the k-th frames and the k-th handler call (order is kept end to end). */
export function splitControl(t: { clickAt: number[]; ctlSend: number[]; ctlRecv: number[]; fired: number[] }, skip = 0): ControlSplit {
  const s: ControlSplit = { inputs: 0, total: [], agentSide: [], relay: [], userSide: [], missing: 0 };
  for (let k = skip; k < t.clickAt.length; k++) {
    s.inputs++;
    const fired = t.fired[k];
    if (fired === undefined) {
      s.missing++;
      continue;
    }
    s.total.push(fired - t.clickAt[k]);
    const ws = t.ctlSend[k];
    const wr = t.ctlRecv[k];
    if (ws === undefined || wr === undefined) continue;
    s.agentSide.push(ws - t.clickAt[k]);
    s.relay.push(wr - ws);
    s.userSide.push(fired - wr);
  }
  return s;
}

/**
 * Received frame rate from `requestVideoFrameCallback` samples (`[now, presentedFrames]`): frames per second
 * over the span between the first and the last sample.
 */
export function fpsOf(samples: [number, number][]): number {
  if (samples.length < 2) return NaN;
  const [t0, f0] = samples[0];
  const [t1, f1] = samples[samples.length - 1];
  return t1 > t0 ? ((f1 - f0) * 1000) / (t1 - t0) : NaN;
}

/**
 * In the agent's page: for every canvas video of the live view (`[data-testid=assist-canvas-video]`),
 * `__canvasFirstFrame` = when the first frame was presented (requestVideoFrameCallback: the compositor
 * showed it), `__canvasFirstReceive` when that frame's last packet arrived, `__canvasVideoAt` when the first
 * video element appeared, and `__canvasFrames` = [now, presentedFrames] per callback of the first video.
 */
export const CANVAS_WATCH_INIT = `(() => {
  window.__canvasFirstFrame = null; window.__canvasFrames = []; window.__canvasVideoAt = null; window.__canvasFirstReceive = null;
  const watched = new WeakSet();
  const watch = (v) => {
    if (watched.has(v) || !v.requestVideoFrameCallback) return;
    watched.add(v);
    if (window.__canvasVideoAt === null) window.__canvasVideoAt = performance.timeOrigin + performance.now();
    const first = window.__canvasFrames.length === 0;
    const cb = (now, meta) => {
      const t = performance.timeOrigin + now;
      // Chromium calls back for a video that is not rendered (display: none, before the live view has placed
      // it over its canvas): not on screen, so not counted as the first frame.
      if (window.__canvasFirstFrame === null && v.getClientRects().length === 0) { v.requestVideoFrameCallback(cb); return; }
      if (window.__canvasFirstFrame === null) {
        window.__canvasFirstFrame = t;
        // When the last packet of that frame arrived (WebRTC sources only).
        if (meta.receiveTime) window.__canvasFirstReceive = performance.timeOrigin + meta.receiveTime;
      }
      if (first && window.__canvasFrames.length < 5000) window.__canvasFrames.push([t, meta.presentedFrames]);
      v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
  };
  setInterval(() => document.querySelectorAll('[data-testid="assist-canvas-video"]').forEach(watch), 20);
})();`;

/** Clicks the plugin's consent Accept (in its open shadow root) and returns when it was clicked. */
export async function acceptPrompt(page: Page, timeoutMs = 15_000): Promise<number> {
  const button = page.locator('[data-tandem-consent-accept]').last();
  await button.waitFor({ state: 'visible', timeout: timeoutMs });
  const box = (await button.boundingBox())!;
  const before = await page.evaluate(() => performance.timeOrigin + performance.now());
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  return before;
}

/** Where an element of the user's page is drawn in the agent's live view (agent page coordinates). */
export async function pointInView(view: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = await view.frameLocator('[data-testid="live-stage"] iframe').first().locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not drawn in the agent's live view`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** `Tandem('assistState')` with the plugin's `rtc` section (issue 7), or null. */
export function rtcOf(page: Page): Promise<{ callActive?: boolean; controlledBy?: string | null; canvasStreams?: number; peers?: string[] } | null> {
  return page.evaluate(
    () =>
      new Promise((r) => {
        const t = setTimeout(() => r(null), 1000);
        (window as any).Tandem('assistState', (s: any) => {
          clearTimeout(t);
          r(s?.rtc ?? null);
        });
      }),
  );
}

export async function waitRtc(page: Page, what: string, pred: (rtc: NonNullable<Awaited<ReturnType<typeof rtcOf>>>) => boolean, timeoutMs = 15_000): Promise<void> {
  await waitFor(what, async () => {
    const r = await rtcOf(page);
    return r !== null && pred(r);
  }, timeoutMs, 50);
}

/** Main-thread CPU time of a page so far (CDP Performance.getMetrics, thread ticks), ms. */
export async function mainThreadCpuMs(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' } as never);
  return async () => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN) * 1000;
  };
}

/**
 * In both call pages: `__flowStart(source)` notes the inbound audio/video bytes of the page's peer
 * connections now, then polls getStats every 10 ms and stamps `__flowAt` the first time both audio and
 * video have grown (media flowing into this page). `source`: 'pcs' (PC_TAP_INIT) or 'agent' (the
 * dashboard's `window.__tandemAssist.peers()`, tab peers only). `__acceptAt` stamps a click on the
 * plugin's consent Accept button (capture, so before the plugin's own handler).
 */
export const FLOW_WATCH_INIT = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__acceptAt = null;
  window.addEventListener('click', (e) => {
    const t = e.composedPath()[0];
    if (t && t.closest && t.closest('[data-tandem-consent-accept]')) window.__acceptAt = now();
  }, true);
  const pcsOf = (source) => {
    if (source === 'pcs') return window.__pcs || [];
    const p = (window.__tandemAssist && window.__tandemAssist.peers && window.__tandemAssist.peers()) || {};
    const entries = p instanceof Map ? [...p.entries()] : Object.entries(p);
    return entries.filter(([id]) => id.startsWith('tab:')).map(([, pc]) => pc);
  };
  const read = async (source) => {
    const out = new Map();
    for (const pc of pcsOf(source)) {
      if (!pc || pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((r) => { if (r.type === 'inbound-rtp') out.set(r.id + '@' + (pc.__benchId ||= Math.random()), { kind: r.kind, bytes: r.bytesReceived || 0 }); });
    }
    return out;
  };
  window.__flowStart = async (source) => {
    window.__flowAt = null;
    const base = await read(source);
    const tick = async () => {
      const cur = await read(source);
      let audio = false, video = false;
      for (const [id, r] of cur) {
        const b = base.get(id);
        if (r.bytes > (b ? b.bytes : 0)) { if (r.kind === 'audio') audio = true; else if (r.kind === 'video') video = true; }
      }
      if (audio && video) window.__flowAt = now();
      else setTimeout(tick, 10);
    };
    tick();
  };
})();`;

/**
 * The floor of "media flowing both ways" on this machine, in one page: two RTCPeerConnections on loopback,
 * each with its own getUserMedia (audio + video), offer/answer and candidates handed over directly (no
 * server, no simple-peer), until both have received audio and video bytes. Returns ms.
 */
export function rawWebrtcSetup(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const t0 = performance.now();
    const a = new RTCPeerConnection({ iceServers: [] });
    const b = new RTCPeerConnection({ iceServers: [] });
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const [ma, mb] = await Promise.all([
      navigator.mediaDevices.getUserMedia({ audio: true, video: true }),
      navigator.mediaDevices.getUserMedia({ audio: true, video: true }),
    ]);
    for (const t of ma.getTracks()) a.addTrack(t, ma);
    for (const t of mb.getTracks()) b.addTrack(t, mb);
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    const flowing = async (pc: RTCPeerConnection) => {
      let audio = false, video = false;
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'inbound-rtp' && r.bytesReceived > 0) {
          if (r.kind === 'audio') audio = true;
          if (r.kind === 'video') video = true;
        }
      });
      return audio && video;
    };
    const deadline = t0 + 15_000;
    while (!((await flowing(a)) && (await flowing(b)))) {
      if (performance.now() > deadline) throw new Error('raw WebRTC pair: no media within 15 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - t0;
    a.close();
    b.close();
    for (const t of [...ma.getTracks(), ...mb.getTracks()]) t.stop();
    return ms;
  });
}

/**
 * A timeline of one page's assist traffic for the canvas-video breakdown: `__tl` gets `[name, t]` (t =
 * `performance.timeOrigin + performance.now()`, one clock for every page of the browser) the first time
 * (per `__tlReset()`) a socket.io frame matching a rule is sent or received, and for the page's
 * RTCPeerConnections when ICE and the connection are up. Rules: [name, 'send' | 'recv', substrings...].
 */
export function timelineInit(rules: [string, 'send' | 'recv', ...string[]][]): string {
  return `(() => {
  const RULES = ${JSON.stringify(rules)};
  const now = () => performance.timeOrigin + performance.now();
  window.__tl = [];
  let seen = new Set();
  window.__tlReset = () => { window.__tl = []; seen = new Set(); };
  const mark = (name) => { if (!seen.has(name)) { seen.add(name); window.__tl.push([name, now()]); } };
  const check = (dir, data) => {
    if (typeof data !== 'string') return;
    for (const [name, d, ...subs] of RULES) if (d === dir && subs.every((s) => data.indexOf(s) >= 0)) mark(name);
  };
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) { check('send', data); return send.call(this, data); };
  function Tapped(...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', (e) => check('recv', e.data));
    return ws;
  }
  Tapped.prototype = Orig.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Tapped[k] = Orig[k];
  window.WebSocket = Tapped;
  const PC = window.RTCPeerConnection;
  if (PC && !PC.__tl) {
    class T extends PC {
      constructor(...a) {
        super(...a);
        mark('pc created');
        this.addEventListener('iceconnectionstatechange', () => { if (this.iceConnectionState === 'connected') mark('ICE connected'); });
        this.addEventListener('connectionstatechange', () => { if (this.connectionState === 'connected') mark('DTLS connected'); });
        this.addEventListener('track', () => mark('track'));
      }
    }
    T.__tl = true;
    window.RTCPeerConnection = T;
  }
})();`;
}

/** The agent page's steps (the dashboard's socket and peers). */
export const AGENT_TIMELINE_RULES: [string, 'send' | 'recv', ...string[]][] = [
  ['join sent', 'send', '"live:join"'],
  // The early join rides on the namespace handshake (AgentHandshake.join): the first of the two counts.
  ['join sent', 'send', '"role":"agent"', '"join":{'],
  ['first live:events', 'recv', '"live:events"'],
  ['canvas offer in', 'recv', '"rtc:signal"', '"offer"', '"canvas"'],
  ['canvas answer out', 'send', '"rtc:signal"', '"answer"', '"canvas"'],
  ['canvas:streams in', 'recv', '"canvas:streams"'],
];
/** The user page's steps (the plugin's socket and peers). */
export const USER_TIMELINE_RULES: [string, 'send' | 'recv', ...string[]][] = [
  ['user: live:start in', 'recv', '"live:start"'],
  ['user: canvas:want in', 'recv', '"canvas:want"'],
  ['user: snapshot out', 'send', '"live:events"'],
  ['user: offer out', 'send', '"rtc:signal"', '"offer"'],
  ['user: answer in', 'recv', '"rtc:signal"', '"answer"'],
];
