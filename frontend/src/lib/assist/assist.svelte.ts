import {
  agentPeerId,
  type AssistEndReason,
  type AssistFeature,
  type AssistRefusal,
  type AssistState,
  type Capability,
  type PeerId,
  type RequestOutcome,
  type RtcConfig,
  type SignalIn,
} from '@tandem/protocol';
import type { ApiClient } from '../api/client';
import { apply as applyEarlyStep, type EarlyPeers } from '../live/early-peers';
import type { LiveSocket } from '../live/socket.svelte';
import { AnnotateModule } from './annotate.svelte';
import { CallModule } from './call.svelte';
import { CanvasModule } from './canvas.svelte';
import { ControlModule } from './control.svelte';
import { registerAssist } from './hook';
import type { AssistContext, AssistModule } from './module';
import { PeerMesh, canvasPeerKey, type PeerMeshEvents } from './peers';
import { RecordModule } from './record.svelte';
import { RemoteStreams } from './remote-streams.svelte';
import { featureOfEvent, initialStatus, reduceStatus, type AssistStatus, type StatusEvent } from './status';

const ACK_TIMEOUT_MS = 10_000;
/** A failing tab peer is asked for its canvases again at most this often. */
const CANVAS_WANT_MIN_MS = 5_000;

/**
 * Live assist for one joined session, the agent's side: the session's `assist:state` (R3), the
 * requests this agent makes and what became of them, the WebRTC peers and one module per capability
 * (call, canvas, control, annotate, record: module.ts). The live view shows the toolbar from here.
 */
export class AssistController {
  state = $state.raw<AssistState | null>(null);
  status = $state.raw<AssistStatus>(initialStatus());
  /** This socket's peer id while connected. */
  selfId = $state<PeerId | null>(null);

  readonly sessionId: string;
  readonly mesh: PeerMesh;
  readonly streams = new RemoteStreams();
  readonly call: CallModule;
  readonly canvas: CanvasModule;
  readonly control: ControlModule;
  readonly annotate: AnnotateModule;
  readonly record: RecordModule;

  #live: LiveSocket;
  #modules: AssistModule[];
  #off: (() => void)[] = [];
  #destroyed = false;
  #lastWant = 0;
  /** The tab this view watches (its canvases are the ones wanted). */
  #watchedTab: string | null = null;

  /** The user's recording mark: anyone's recording of this session's call. */
  recordingMark = $derived(!!this.state?.recording);
  /** Names of the agents in the call (the tiles' labels). */
  callAgents = $derived(this.state?.call?.agents ?? []);

  /** `early`: the peers the early join answered with before this view existed (lib/live/early-peers.ts). */
  constructor(socket: LiveSocket, api: ApiClient, sessionId: string, early?: Pick<EarlyPeers, 'adopt'> | null) {
    this.#live = socket;
    this.sessionId = sessionId;
    const io = socket.socket;
    const events: PeerMeshEvents = {
      stream: (peerId, stream, key) => this.streams.add(peerId, stream, key),
      streamChanged: (_peerId, stream) => this.streams.changed(stream),
      closed: (key, failed) => {
        this.streams.dropPeer(key);
        // The watched tab's canvas peer died by itself (a call's peer closing is the call's business:
        // the tab starts a new one while the call lasts).
        if (failed && key === this.#canvasKey()) this.#wantCanvasesAgain();
      },
    };
    const adopted = early?.adopt(events);
    this.mesh = adopted?.mesh ?? new PeerMesh((to, signal, channel) => io.emit('rtc:signal', { sessionId, to, signal, ...(channel ? { channel } : {}) }), events);
    // What the early join received before its mesh's module loaded: this mesh takes it up, in order.
    for (const step of adopted?.steps ?? []) applyEarlyStep(this.mesh, step);
    const ctx: AssistContext = {
      sessionId,
      socket: io,
      mesh: this.mesh,
      self: () => this.#self(),
      state: () => this.state,
    };
    this.call = new CallModule(ctx);
    this.canvas = new CanvasModule(ctx, this.streams);
    this.control = new ControlModule(ctx);
    this.annotate = new AnnotateModule(ctx);
    this.record = new RecordModule(ctx, api, this.call, this.streams);
    this.#modules = [this.call, this.canvas, this.control, this.annotate, this.record];

    const mine = (id: string | undefined) => id === sessionId;
    const onState = (state: AssistState) => mine(state.sessionId) && this.#setState(state);
    const onResult = (m: { sessionId: string; feature: AssistFeature; outcome: RequestOutcome }) =>
      mine(m.sessionId) && this.#status({ kind: 'result', feature: m.feature, outcome: m.outcome });
    const onEnded = (m: { sessionId: string; feature: AssistFeature; reason: AssistEndReason }) =>
      mine(m.sessionId) && this.#status({ kind: 'ended', feature: m.feature, reason: m.reason });
    const onRefused = (r: AssistRefusal) => {
      if (!mine(r.sessionId)) return;
      const feature = featureOfEvent(r.event);
      if (feature) this.#status({ kind: 'refused', feature, code: r.code, message: r.message });
    };
    const onConfig = (m: { sessionId: string } & RtcConfig) => mine(m.sessionId) && this.mesh.setConfig(m);
    const onSignal = (m: SignalIn) => mine(m.sessionId) && this.mesh.signal(m.from, m.signal, m.channel);
    io.on('assist:state', onState);
    io.on('assist:result', onResult);
    io.on('assist:ended', onEnded);
    io.on('assist:refused', onRefused);
    io.on('rtc:config', onConfig);
    io.on('rtc:signal', onSignal);
    const onDisconnect = () => this.#setState(null);
    io.on('disconnect', onDisconnect);
    this.#off.push(() => {
      io.off('assist:state', onState);
      io.off('assist:result', onResult);
      io.off('assist:ended', onEnded);
      io.off('assist:refused', onRefused);
      io.off('rtc:config', onConfig);
      io.off('rtc:signal', onSignal);
      io.off('disconnect', onDisconnect);
    });
    this.#off.push(registerAssist(this));
  }

  /** The watched tab's canvas peer key, or null before the join says which tab. */
  #canvasKey(): string | null {
    return this.#watchedTab ? canvasPeerKey(this.#watchedTab) : null;
  }

  /**
   * The watched tab's canvas peer died by itself (network change, the tab's side failed): ask the tab
   * to stream its canvases again (`canvas:want`), unless it already started a new peer (it closes and
   * restarts its side itself when it had to drop streams). At most once per CANVAS_WANT_MIN_MS, so a
   * tab that keeps failing is not asked in a loop.
   */
  #wantCanvasesAgain(): void {
    const now = Date.now();
    if (this.#destroyed || now - this.#lastWant < CANVAS_WANT_MIN_MS) return;
    this.#lastWant = now;
    setTimeout(() => {
      const key = this.#canvasKey();
      if (this.#destroyed || !this.#live.connected || !key || this.mesh.has(key)) return;
      this.#live.socket.emit('canvas:want', { sessionId: this.sessionId });
    }, 500);
  }

  /** The view now watches `tabId` (joined, or switched tabs): PeerMesh.watchCanvasesOf. */
  watching(tabId: string | null): void {
    this.#watchedTab = tabId;
    this.mesh.watchCanvasesOf(tabId);
  }

  #self(): PeerId | null {
    const id = this.#live.socket.id;
    return this.#live.socket.connected && id ? agentPeerId(id) : null;
  }

  #setState(state: AssistState | null): void {
    if (this.#destroyed) return;
    this.state = state;
    const self = this.#self();
    this.selfId = self;
    if (state) this.#status({ kind: 'state', state, self });
    for (const m of this.#modules) {
      try {
        m.update(state, self);
      } catch (err) {
        console.error(`[tandem] assist ${m.name} failed`, err);
      }
    }
  }

  #status(event: StatusEvent): void {
    this.status = reduceStatus(this.status, event);
  }

  /** Asks the user for `feature` (the server checks the capability first). */
  request(feature: AssistFeature): void {
    this.#status({ kind: 'requested', feature });
    this.#live.socket.timeout(ACK_TIMEOUT_MS).emit('assist:request', { sessionId: this.sessionId, feature }, (err, result) => {
      if (this.#destroyed) return;
      if (err) this.#status({ kind: 'refused', feature, code: 'timeout', message: 'The Tandem server did not answer the request.' });
      else if (!result.ok) this.#status({ kind: 'refused', feature, code: result.error.code, message: result.error.message });
    });
  }

  /** Withdraws a pending request of this agent. */
  cancel(feature: AssistFeature): void {
    this.#live.socket.emit('assist:end', { sessionId: this.sessionId, feature });
  }

  /** The watched tab changed or left: peers to tabs that are gone are closed. */
  tabsChanged(tabIds: string[]): void {
    for (const id of this.mesh.ids()) {
      const tab = id.startsWith('tab:') ? id.slice(4) : id.startsWith('canvas:tab:') ? id.slice(11) : null;
      if (tab !== null && !tabIds.includes(tab)) this.mesh.close(id);
    }
  }

  /** Session over (ended, or the view closes). */
  end(): void {
    this.#setState(null);
    this.mesh.destroy();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.end();
    this.#destroyed = true;
    for (const off of this.#off) off();
    for (const m of this.#modules) m.destroy();
  }
}

export function canUse(capabilities: readonly Capability[], feature: AssistFeature): boolean {
  return capabilities.includes(feature);
}
