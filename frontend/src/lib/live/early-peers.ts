import type { PeerChannel, PeerId, PeerSignal, RtcConfig, SignalIn } from '@tandem/protocol';
import type { PeerMesh, PeerMeshEvents } from '../assist/peers';

/** What the early peers use of the early join's socket.io socket (a fake in unit tests). */
export interface EarlyPeerSocket {
  on(name: 'rtc:config', fn: (msg: { sessionId: string } & RtcConfig) => void): unknown;
  on(name: 'rtc:signal', fn: (msg: SignalIn) => void): unknown;
  off(name: string, fn: (...args: never[]) => void): unknown;
  emit(name: 'rtc:signal', msg: { sessionId: string; to: PeerId; signal: PeerSignal; channel?: PeerChannel }): unknown;
}

/** The mesh's module (lib/assist/peers.ts: simple-peer and its shims), loaded apart from the view's chunk. */
export type PeersModule = Pick<typeof import('../assist/peers'), 'PeerMesh'>;

export type EarlyPeerStep = { kind: 'config'; config: RtcConfig } | { kind: 'signal'; msg: SignalIn };

/** What the view's assist controller gets back: the mesh already answering, or the steps it must replay itself. */
export type Adopted = { mesh: PeerMesh; steps?: undefined } | { mesh: null; steps: EarlyPeerStep[] };

/**
 * The canvas peer of a live view opened in a new tab, answered before the view exists. The user's tab
 * offers its canvases as soon as the join reaches it (`canvas:want`); the view, in the live page's
 * chunk, attaches only after the app's sign-in check and mount, and then draws the user's snapshot
 * in one long task (hundreds of ms for a big page), so the answer used to leave only after both
 * (quiet, heavy page: offer in at ~550 ms, answer out at ~970). Here the early join (pages/live/early-join.ts)
 * loads the mesh's module (lib/assist/peers.ts) by itself when the first offer comes, builds a PeerMesh
 * and answers at once; the view's
 * AssistController then adopts the mesh (`adopt`) and the remote streams that came meanwhile.
 */
export class EarlyPeers {
  readonly #io: EarlyPeerSocket;
  readonly #sessionId: string;
  #mesh: PeerMesh | null = null;
  /** In arrival order, until the mesh's module is loaded. */
  #steps: EarlyPeerStep[] = [];
  /** The mesh's events before the view adopted it, in order. */
  #events: ((to: PeerMeshEvents) => void)[] = [];
  #adoptedBy: PeerMeshEvents | null = null;
  #done = false;
  readonly #load: () => Promise<PeersModule>;
  #loading = false;
  #onConfig = (msg: { sessionId: string } & RtcConfig) => {
    if (msg.sessionId === this.#sessionId) this.#step({ kind: 'config', config: msg });
  };
  #onSignal = (msg: SignalIn) => {
    if (msg.sessionId !== this.#sessionId || this.#done) return;
    this.#step({ kind: 'signal', msg });
    this.#loadOnce();
  };

  constructor(io: EarlyPeerSocket, sessionId: string, load: () => Promise<PeersModule>) {
    this.#io = io;
    this.#sessionId = sessionId;
    this.#load = load;
    io.on('rtc:config', this.#onConfig);
    io.on('rtc:signal', this.#onSignal);
  }

  /**
   * The mesh's module is fetched when the user's tab first signals (its canvas offer), not at once: a
   * page without canvases never offers, and loading and evaluating simple-peer during the join competed
   * with the app's own start-up (the view attached later; ninth session).
   */
  #loadOnce(): void {
    if (this.#loading) return;
    this.#loading = true;
    this.#load().then(
      (mod) => this.#loaded(mod),
      (err) => console.warn('[tandem] could not load the WebRTC module early', err),
    );
  }

  /**
   * Called once by the view's AssistController, with its events: from now on signals reach it through
   * its own listeners. The mesh if it was built (its held events are handed on now, in order); else
   * the steps that came, for the view's own mesh to replay.
   */
  adopt(events: PeerMeshEvents): Adopted {
    this.#stop();
    if (!this.#mesh) {
      const steps = this.#steps;
      this.#steps = [];
      return { mesh: null, steps };
    }
    this.#adoptedBy = events;
    const held = this.#events;
    this.#events = [];
    for (const fn of held) fn(events);
    return { mesh: this.#mesh };
  }

  /** Nobody adopted it (the page went elsewhere): its peers close. */
  close(): void {
    this.#stop();
    if (!this.#adoptedBy) this.#mesh?.destroy();
  }

  #stop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#io.off('rtc:config', this.#onConfig);
    this.#io.off('rtc:signal', this.#onSignal);
  }

  #step(step: EarlyPeerStep): void {
    if (this.#done) return;
    if (this.#mesh) apply(this.#mesh, step);
    else this.#steps.push(step);
  }

  #loaded(mod: PeersModule): void {
    if (this.#done) return;
    const io = this.#io;
    const sessionId = this.#sessionId;
    // Until adopted, what the mesh reports waits here (the view's RemoteStreams do not exist yet).
    const relay = <K extends keyof PeerMeshEvents>(name: K) =>
      ((...args: Parameters<PeerMeshEvents[K]>) => {
        const to = this.#adoptedBy;
        if (to) (to[name] as (...a: unknown[]) => void)(...args);
        else this.#events.push((e) => (e[name] as (...a: unknown[]) => void)(...args));
      }) as PeerMeshEvents[K];
    const mesh = new mod.PeerMesh((to, signal, channel) => io.emit('rtc:signal', { sessionId, to, signal, ...(channel ? { channel } : {}) }), {
      stream: relay('stream'),
      streamChanged: relay('streamChanged'),
      closed: relay('closed'),
    });
    this.#mesh = mesh;
    const steps = this.#steps;
    this.#steps = [];
    for (const step of steps) apply(mesh, step);
  }
}

/** One step on a mesh, as AssistController does it for the same message. */
export function apply(mesh: Pick<PeerMesh, 'setConfig' | 'signal'>, step: EarlyPeerStep): void {
  if (step.kind === 'config') mesh.setConfig(step.config);
  else mesh.signal(step.msg.from, step.msg.signal, step.msg.channel);
}
