/**
 * Helpers of the assist-over-WebRTC e2e tests (issue 7): the test pages served from the backend's origin,
 * the user's consent prompts, WebRTC statistics read from real RTCPeerConnections, and raw agent sockets
 * for what the server must refuse whatever a browser UI does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { io, type Socket } from 'socket.io-client';
import type { BrowserContext, Page } from 'playwright-core';
import {
  ASSIST_NAMESPACE,
  PROTOCOL_VERSION,
  type AckResult,
  type AgentToServerEvents,
  type AssistFeature,
  type JoinResult,
  type ServerToAgentEvents,
} from '@tandem/protocol';
import { PROJECT_KEY } from './backend-process.js';
import { waitFor } from './browser.js';

/**
 * WebRTC pages are the heaviest the e2e suite runs (encoders, decoders, fake devices): on a loaded 2-core
 * machine a navigation or a click can take far longer than Playwright's defaults, and waiting longer for
 * a condition that holds costs nothing when it holds early.
 */
export function patientContext<T extends BrowserContext>(context: T): T {
  context.setDefaultTimeout(45_000);
  context.setDefaultNavigationTimeout(60_000);
  return context;
}

const PAGES = path.resolve(new URL('../../assist-pages', import.meta.url).pathname);

let reactApp: Promise<string> | null = null;
/** The React test app, bundled once per test file (esbuild, production React, no JSX: createElement). */
function reactAppBundle(): Promise<string> {
  return (reactApp ??= build({
    entryPoints: [path.join(PAGES, 'react-app.js')],
    bundle: true,
    write: false,
    format: 'iife',
    minify: true,
    target: ['es2020'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  }).then((r) => r.outputFiles[0].text));
}

/** Requests a payload of the XSS page made from a browser (a payload that ran), per context. */
export interface XssHits {
  hits: string[];
}

/**
 * Serves the assist test pages at `<backend>/app/*.html` (and the React bundle) in this browser context,
 * so /tracker.js loads from the backend as on a customer's site and the agent can `navigate` between
 * them. `/xss-ran?where=…` answers 204 and is logged in the returned list.
 */
export async function serveAssistPages(context: BrowserContext, baseUrl: string): Promise<XssHits> {
  const xss: XssHits = { hits: [] };
  await context.route(`${baseUrl}/app/react-app.js`, async (route) =>
    route.fulfill({ contentType: 'text/javascript', body: await reactAppBundle() }));
  await context.route(new RegExp(`^${escapeRe(baseUrl)}/app/[a-z0-9-]+\\.html(\\?.*)?$`), async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    const html = await readFile(path.join(PAGES, name), 'utf8').catch(() => null);
    if (html === null) return route.fulfill({ status: 404, body: 'no such test page' });
    return route.fulfill({ contentType: 'text/html', body: html.replaceAll('__PROJECT_KEY__', PROJECT_KEY) });
  });
  await context.route(new RegExp(`^${escapeRe(baseUrl)}/xss-ran`), (route) => {
    xss.hits.push(route.request().url());
    return route.fulfill({ status: 204, body: '' });
  });
  return xss;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Collects every RTCPeerConnection a page creates into `window.__pcs` (the user's side: its peers live in
 * the plugin's lazy chunk, created through the global constructor as simple-peer does).
 */
export const PC_TAP_INIT = `(() => {
  const Orig = window.RTCPeerConnection;
  if (!Orig || Orig.__tapped) return;
  window.__pcs = [];
  class Tapped extends Orig {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  }
  Tapped.__tapped = true;
  window.RTCPeerConnection = Tapped;
  window.webkitRTCPeerConnection = Tapped;
})();`;

/** Inbound media of a page's live peer connections, summed per kind. */
export interface Inbound {
  audioBytes: number;
  videoBytes: number;
  framesDecoded: number;
  /** Open (not closed) peer connections counted. */
  peers: number;
}

/** `pcs`: the connections PC_TAP_INIT collected (user side); `agent`: the dashboard's `window.__tandemAssist.peers()`. */
export type PeerSource = 'pcs' | 'agent';

/**
 * Sums inbound-rtp statistics (`getStats()`: what actually arrived and was decoded, not what an element
 * says) over the page's peer connections, or only over the peers whose id starts with `peerPrefix`
 * (e.g. `agent:` for an agent's peers with other agents in a group call).
 */
export function inbound(page: Page, source: PeerSource, peerPrefix = ''): Promise<Inbound> {
  return page.evaluate(
    async ({ source, peerPrefix }) => {
      const w = window as any;
      let pcs: RTCPeerConnection[] = [];
      if (source === 'pcs') pcs = w.__pcs ?? [];
      else {
        const peers = w.__tandemAssist?.peers?.() ?? {};
        const entries: [string, RTCPeerConnection][] = peers instanceof Map ? [...peers.entries()] : Object.entries(peers);
        pcs = entries.filter(([id]) => id.startsWith(peerPrefix)).map(([, pc]) => pc);
      }
      const out = { audioBytes: 0, videoBytes: 0, framesDecoded: 0, peers: 0 };
      for (const pc of pcs) {
        if (!pc || pc.connectionState === 'closed') continue;
        out.peers++;
        const stats = await pc.getStats();
        stats.forEach((r: any) => {
          if (r.type !== 'inbound-rtp') return;
          if (r.kind === 'audio') out.audioBytes += r.bytesReceived ?? 0;
          if (r.kind === 'video') {
            out.videoBytes += r.bytesReceived ?? 0;
            out.framesDecoded += r.framesDecoded ?? 0;
          }
        });
      }
      return out;
    },
    { source, peerPrefix },
  );
}

/**
 * Waits until inbound audio and/or video bytes grow by at least `minBytes` from the first reading: media
 * that flows, not a connection that exists. Resolves with the last reading.
 */
export async function waitForInboundGrowth(
  page: Page,
  source: PeerSource,
  kinds: { audio?: boolean; video?: boolean },
  what: string,
  opts: { peerPrefix?: string; minBytes?: number; timeoutMs?: number } = {},
): Promise<Inbound> {
  const minBytes = opts.minBytes ?? 4_000;
  const first = await inbound(page, source, opts.peerPrefix);
  let last = first;
  return waitFor(what, async () => {
    last = await inbound(page, source, opts.peerPrefix);
    const audioOk = !kinds.audio || last.audioBytes - first.audioBytes >= minBytes;
    const videoOk = !kinds.video || last.videoBytes - first.videoBytes >= minBytes;
    return audioOk && videoOk ? last : null;
  }, opts.timeoutMs ?? 45_000, 250).catch((err) => {
    throw new Error(`${(err as Error).message}; inbound first ${JSON.stringify(first)}, last ${JSON.stringify(last)}`);
  });
}

/** How much inbound audio/video arrived over `ms` (after a settle time for what was already in flight). */
export async function inboundDelta(page: Page, source: PeerSource, ms: number, settleMs = 800, peerPrefix = ''): Promise<Inbound> {
  await page.waitForTimeout(settleMs);
  const a = await inbound(page, source, peerPrefix);
  await page.waitForTimeout(ms);
  const b = await inbound(page, source, peerPrefix);
  return { audioBytes: b.audioBytes - a.audioBytes, videoBytes: b.videoBytes - a.videoBytes, framesDecoded: b.framesDecoded - a.framesDecoded, peers: b.peers };
}

// -------------------------------------------------------------------------------------- the user's side

/** The consent prompt of the assist plugin (in its open shadow root; Playwright's CSS pierces it). */
export async function answerPrompt(page: Page, accept: boolean, mustName?: string, timeoutMs = 15_000): Promise<string> {
  // :visible — the plugin keeps its (hidden) viewing-consent prompt in the same shadow root.
  const button = page.locator(accept ? '[data-tandem-consent-accept]:visible' : '[data-tandem-consent-decline]:visible').last();
  await button.waitFor({ state: 'visible', timeout: timeoutMs });
  // The prompt's text: its dialog box (role, or the plugin's request/consent attribute).
  const text = await button.evaluate((el) => {
    const box = el.closest('[role="alertdialog"], [role="dialog"], [data-tandem-request], [data-tandem-consent]') ?? el.parentElement?.parentElement ?? el;
    return box.textContent ?? '';
  });
  if (mustName && !text.includes(mustName)) throw new Error(`the prompt does not name ${mustName}: ${JSON.stringify(text)}`);
  await button.click();
  return text;
}

/** A visible consent button of the plugin (the viewing-consent prompt's buttons stay in the DOM, hidden). */
export const VISIBLE_ACCEPT = '[data-tandem-consent-accept]:visible';

/** The plugin's own view of assist (the `rtc` section added by issue 7). */
export interface RtcAssistState {
  connected: boolean;
  forwarding: boolean;
  agents: { id: string; name: string }[];
  rtc?: { peers: string[]; callActive: boolean; controlledBy: string | null; canvasStreams: number; strokesDrawn: number };
}

export function rtcState(page: Page): Promise<RtcAssistState> {
  return page.evaluate(() => new Promise<RtcAssistState>((r) => (window as any).Tandem('assistState', r)));
}

/** The user page's own record of what its handlers saw (`window.__events`, from the test pages). */
export function pageEvents(page: Page): Promise<{ type: string; detail: string; t: number }[]> {
  return page.evaluate(() => (window as any).__events ?? []);
}

// ------------------------------------------------------------------------------------ the agent's side

/**
 * Where an element of the user's page is drawn in the agent's live view (page coordinates of the agent's
 * page: the replay is scaled, so this is not the user's position). The agent clicks there on its overlay.
 */
export async function pointInView(view: Page, selector: string, scope = ''): Promise<{ x: number; y: number }> {
  const frame = view.frameLocator(`${scope} [data-testid="live-stage"] iframe`.trim()).first();
  const box = await frame.locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not drawn in the agent's view`);
  const p = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  // Outside the stage the agent's click would land on the dashboard (e.g. the time-travel bar), not the page.
  const stage = await view.locator(`${scope} [data-testid="live-stage"]`.trim()).first().boundingBox();
  if (!stage || p.x < stage.x || p.y < stage.y || p.x > stage.x + stage.width || p.y > stage.y + stage.height) {
    throw new Error(`${selector} is outside the agent's stage (at ${JSON.stringify(p)}, stage ${JSON.stringify(stage)}): scroll the user's page first`);
  }
  return p;
}

export async function clickInView(view: Page, selector: string): Promise<void> {
  const p = await pointInView(view, selector);
  await view.mouse.click(p.x, p.y);
}

/** The agent's assist status (`assist-status[data-state]`). */
export function agentStatus(view: Page): Promise<string | null> {
  return view.getByTestId('assist-status').first().getAttribute('data-state');
}

// ---------------------------------------------------------------------------------- raw agent sockets

export type AgentSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

/** An agent socket without any dashboard: the login cookie, or a watch link's token. */
export async function rawAgent(baseUrl: string, auth: { cookie?: string; watchToken?: string }): Promise<AgentSocket> {
  const socket: AgentSocket = io(`${baseUrl}${ASSIST_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { role: 'agent', v: PROTOCOL_VERSION, ...(auth.watchToken ? { watchToken: auth.watchToken } : {}) },
    extraHeaders: auth.cookie ? { cookie: auth.cookie } : {},
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

export function joinSession(socket: AgentSocket, sessionId: string): Promise<AckResult<JoinResult>> {
  return new Promise((resolve) => socket.emit('live:join', { sessionId }, resolve));
}

export function requestFeature(socket: AgentSocket, sessionId: string, feature: AssistFeature): Promise<AckResult<{ requestId: string }>> {
  return new Promise((resolve) => socket.emit('assist:request', { sessionId, feature }, resolve));
}

/** Resolves with the next `assist:refused` this socket gets (or rejects after `timeoutMs`). */
export function nextRefusal(socket: AgentSocket, timeoutMs = 5_000): Promise<{ event: string; code: string; message: string }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no assist:refused within ${timeoutMs} ms`)), timeoutMs);
    socket.once('assist:refused', (r) => {
      clearTimeout(t);
      resolve(r);
    });
  });
}
