import type { AssistState, PendingRequest, RtcConfig, ServerToTabRtcEvents, SignalIn } from '@tandem/protocol';
import { EMPTY_RTC_SUMMARY, type RtcContext, type RtcController, type RtcServerEvent, type RtcSummary } from '../rtc-api.js';
import { createAnnotate } from './annotate.js';
import { createCall } from './call.js';
import { createCanvas } from './canvas.js';
import { createControl } from './control.js';
import type { FeatureContext, FeatureFactory, UserFeature } from './feature.js';
import { Peers, type PeerFactory } from './peers.js';
import { Prompts } from './prompts.js';
import { createRecord } from './record.js';
import { RTC_CSS, agentName } from './ui-kit.js';

/** The user-side capabilities, one module each: a new capability is a new file and a line here. */
export const FEATURES: readonly FeatureFactory[] = [createCall, createCanvas, createControl, createAnnotate, createRecord];

export interface RegistryOptions {
  features?: readonly FeatureFactory[];
  peerFactory?: PeerFactory;
}

/**
 * The chunk's controller: keeps the last `assist:state`, routes each server message to the feature
 * that handles it, shows the prompts, and owns the peers the features share.
 */
export function createRegistry(ctx: RtcContext, opts: RegistryOptions = {}): RtcController {
  let state: AssistState | null = null;
  let disposed = false;
  const peers = new Peers({ send: (msg) => ctx.send('rtc:signal', msg), report: ctx.report, factory: opts.peerFactory });
  const canvasPeers = new Peers({ send: (msg) => ctx.send('rtc:signal', msg), channel: 'canvas', report: ctx.report, factory: opts.peerFactory });
  const prompts = new Prompts(ctx);
  const safely = (where: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      ctx.report(err, where);
    }
  };
  const fctx: FeatureContext = { ...ctx, ui: ctx.ui, peers, canvasPeers, state: () => state, safely };
  ctx.ui.addStyles('rtc', RTC_CSS);
  const features: UserFeature[] = (opts.features ?? FEATURES).map((make) => make(fctx));

  const onState = (next: AssistState) => {
    if (!next || typeof next !== 'object') return;
    state = next;
    prompts.sync(next);
    for (const f of features) safely(`${f.name} state`, () => f.onState(next));
  };

  const onRequest = (req: PendingRequest) => {
    if (!req || typeof req !== 'object') return;
    const feature = features.find((f) => f.name === req.feature && f.promptText);
    const text = feature?.promptText?.(req, state) ?? `${agentName(req.agent)} from support is asking for ${req.feature}`;
    prompts.ask(req, text);
  };

  const builtIn: Partial<Record<RtcServerEvent, (msg: unknown) => void>> = {
    'assist:state': (m) => onState(m as AssistState),
    'assist:request': (m) => onRequest(m as PendingRequest),
    'rtc:config': (m) => {
      peers.setConfig(m as RtcConfig);
      canvasPeers.setConfig(m as RtcConfig);
    },
    // Each Peers takes only its own channel's signals.
    'rtc:signal': (m) => {
      peers.signal(m as SignalIn);
      canvasPeers.signal(m as SignalIn);
    },
  };

  return {
    handle<E extends RtcServerEvent>(name: E, ...args: Parameters<ServerToTabRtcEvents[E]>) {
      if (disposed) return;
      builtIn[name]?.(args[0]);
      for (const f of features) {
        const fn = f.on?.[name] as ((...a: unknown[]) => void) | undefined;
        if (fn) safely(`${f.name} ${name}`, () => fn(...args));
      }
    },
    liveStopped() {
      for (const f of features) if (f.onLiveStop) safely(`${f.name} live stop`, () => f.onLiveStop!());
    },
    summary(): RtcSummary {
      const s: RtcSummary = { ...EMPTY_RTC_SUMMARY, loaded: !disposed, peers: peers.ids(), canvasPeers: canvasPeers.ids(), remoteMedia: [], controlRefusals: {}, prompts: prompts.features() };
      for (const f of features) if (f.summarize) safely(`${f.name} summary`, () => f.summarize!(s));
      return s;
    },
    connections() {
      const out = new Map<string, RTCPeerConnection>();
      for (const id of peers.ids()) {
        const pc = peers.connection(id);
        if (pc) out.set(id, pc);
      }
      for (const id of canvasPeers.ids()) {
        const pc = canvasPeers.connection(id);
        if (pc) out.set(`canvas:${id}`, pc);
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const f of features) safely(`${f.name} dispose`, () => f.dispose());
      prompts.dispose();
      peers.closeAll();
      canvasPeers.closeAll();
    },
  };
}
