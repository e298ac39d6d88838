import './shims';
import type { PeerChannel, PeerId, PeerSignal, RtcConfig } from '@tandem/protocol';
import SimplePeer from 'simple-peer';
import { fingerprintOf } from './sdp';

/**
 * The agent's WebRTC peers of one session (simple-peer, trickle ICE), signalled through `rtc:signal`:
 * - towards the user's tab the agent is the non-initiator: the tab starts the peer (an offer arrives)
 *   when it has canvases to stream or a call starts, and the agent answers. A tab has up to two peers
 *   with us: the call's and the canvases' (channel `canvas`, keyed `canvas:tab:<id>` here), so a call
 *   closing its peer never interrupts canvas video (signal.ts PeerChannel);
 * - towards another agent in a group call, the peer whose id sorts first initiates (signal.ts R5).
 * The call's own media (`setLocalMedia`) goes to the peers chosen by the call module; adding it to a
 * peer we did not start makes simple-peer ask the other side to renegotiate (`renegotiate` signal).
 */
export interface PeerMeshEvents {
  /** A remote stream arrived (call media or a canvas) on the peer `key` (see peerKey) with `peerId`. */
  stream(peerId: PeerId, stream: MediaStream, key: string): void;
  /** A remote stream lost or gained tracks. */
  streamChanged(peerId: PeerId, stream: MediaStream): void;
  /** The peer `key` is gone: `failed` when it closed or failed by itself, not because we closed it. */
  closed(key: string, failed: boolean): void;
}

/** A peer's key in the mesh: its peer id, prefixed by its channel (`canvas:tab:<id>`) if it has one. */
export const peerKey = (peerId: PeerId, channel?: PeerChannel): string => (channel ? `${channel}:${peerId}` : peerId);

/** The key of the canvas peer with the user's tab `tabId`. */
export const canvasPeerKey = (tabId: string): string => peerKey(`tab:${tabId}`, 'canvas');

/** Makes the simple-peer instances (tests hand in a stand-in; the live view uses simple-peer itself). */
export type PeerFactory = (opts: SimplePeer.Options) => SimplePeer.Instance;

type Kind = 'audio' | 'video';

interface Entry {
  peerId: PeerId;
  channel: PeerChannel | undefined;
  peer: SimplePeer.Instance;
  initiator: boolean;
  /** DTLS fingerprint of the other side: a different one in a new offer means a new peer there (reload). */
  fingerprint: string | null;
  /** The local stream this peer carries now. */
  sending: MediaStream | null;
  /**
   * Remote streams that arrived before our first answer went out (non-initiator): handed on after it,
   * so the live view's work for them (video elements, layout) does not delay the answer on a busy main
   * thread. Null once the answer is out (or for peers we start).
   */
  held: MediaStream[] | null;
}

export class PeerMesh {
  #peers = new Map<PeerId, Entry>();
  #config: RtcConfig = { iceServers: [] };
  #send: (to: PeerId, signal: PeerSignal, channel?: PeerChannel) => void;
  #events: PeerMeshEvents;
  #local: MediaStream | null = null;
  #localTargets = new Set<PeerId>();
  #off: Record<Kind, boolean> = { audio: false, video: false };
  #destroyed = false;
  #factory: PeerFactory;
  /** Peers given an offer whose answer has not left yet, and who waits for that (`answered`). */
  #answering = new Set<Entry>();
  #answerWaiters: (() => void)[] = [];

  constructor(send: (to: PeerId, signal: PeerSignal, channel?: PeerChannel) => void, events: PeerMeshEvents, factory?: PeerFactory) {
    this.#send = send;
    this.#events = events;
    this.#factory = factory ?? ((opts) => new SimplePeer(opts));
  }

  /**
   * ICE servers (`rtc:config`; an empty list on loopback and in tests) for new peers and the live ones
   * (`setConfiguration`): the server sends fresh TURN credentials before the old ones expire.
   */
  setConfig(config: RtcConfig): void {
    this.#config = { iceServers: config.iceServers ?? [] };
    for (const entry of this.#peers.values()) {
      const pc = pcOf(entry.peer);
      if (!pc || pc.signalingState === 'closed') continue;
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.#config.iceServers });
      } catch (err) {
        console.warn('[tandem] could not update the ICE servers of a peer', err);
      }
    }
  }

  /** A signal from `from` (on `channel`): answered by its peer, created on an offer if there is none yet. */
  signal(from: PeerId, signal: PeerSignal, channel?: PeerChannel): void {
    if (this.#destroyed) return;
    const key = peerKey(from, channel);
    let entry = this.#peers.get(key);
    if (signal.type === 'offer') {
      const fingerprint = fingerprintOf(signal.sdp);
      if (entry && !entry.initiator && entry.fingerprint && fingerprint && entry.fingerprint !== fingerprint) {
        // The other side started over (the user's page reloaded): this peer is dead, answer with a new one.
        this.close(key);
        entry = undefined;
      }
      if (!entry) entry = this.#create(from, false, channel);
      entry.fingerprint = fingerprint ?? entry.fingerprint;
      if (!entry.initiator) this.#answering.add(entry);
    }
    if (!entry) return; // an answer or candidate for a peer that is gone: stale, nothing to do
    try {
      entry.peer.signal(signal as SimplePeer.SignalData);
    } catch (err) {
      console.warn('[tandem] bad signal from', from, err);
    }
  }

  /** Starts a peer we initiate (group calls: towards agents whose id sorts after ours). */
  connect(peerId: PeerId): void {
    if (this.#destroyed || this.#peers.has(peerId)) return;
    this.#create(peerId, true);
  }

  /**
   * The live view watches the user's tab `tabId` now (null: none). Canvas peers with other tabs close
   * (the server also tells the old tab `canvas:stop`; closing here frees our side at once). The tab's
   * canvas peer is made when its offer comes (signal), not before: most pages have no canvas and never
   * offer, and a page's first RTCPeerConnection sets up Chromium's WebRTC stack (tens of ms of main
   * thread, more under load), which a join made ready in advance paid on its way to the first frame
   * (quiet, heavy page: the view attached ~140 ms later; ninth session, docs/decisions.md).
   */
  watchCanvasesOf(tabId: string | null): void {
    if (this.#destroyed) return;
    const keep = tabId === null ? null : canvasPeerKey(tabId);
    for (const id of this.ids()) if (id.startsWith('canvas:tab:') && id !== keep) this.close(id);
  }

  /**
   * Resolves once every offer received so far has been answered (or its peer closed); null when none
   * waits. The live view holds the snapshot's rebuild (one long task) behind it: the answer's steps
   * (setRemoteDescription, createAnswer, setLocalDescription) each need the main thread.
   */
  answered(): Promise<void> | null {
    if (this.#answering.size === 0) return null;
    return new Promise((resolve) => this.#answerWaiters.push(resolve));
  }

  #answerLeft(entry: Entry): void {
    if (!this.#answering.delete(entry) || this.#answering.size > 0) return;
    const waiters = this.#answerWaiters;
    this.#answerWaiters = [];
    for (const fn of waiters) fn();
  }

  /** Is there a peer with this key (peerKey)? */
  has(key: string): boolean {
    return this.#peers.has(key);
  }

  /** The peers' keys (peerKey: `agent:…`, `tab:…`, `canvas:tab:…`). */
  ids(): string[] {
    return [...this.#peers.keys()];
  }

  close(key: string, failed = false): void {
    const entry = this.#peers.get(key);
    if (!entry) return;
    this.#peers.delete(key);
    this.#answerLeft(entry);
    console.debug('[tandem] peer', key, failed ? 'failed' : 'closed');
    entry.peer.removeAllListeners();
    entry.peer.destroy();
    this.#events.closed(key, failed);
  }

  /**
   * The call's local media and the peers that carry it (the call's tab and the other agents in the
   * call). Peers created later get it too when listed. `null` stops sending everywhere.
   */
  setLocalMedia(stream: MediaStream | null, targets: Iterable<PeerId>): void {
    if (stream !== this.#local) {
      for (const entry of this.#peers.values()) this.#stopSending(entry);
      this.#local = stream;
    }
    this.#localTargets = new Set(stream ? targets : []);
    for (const [id, entry] of this.#peers) {
      if (this.#localTargets.has(id)) this.#startSending(entry);
      else this.#stopSending(entry);
    }
  }

  /**
   * Mute / camera off: the sender's track is replaced by none (`RTCRtpSender.replaceTrack(null)`),
   * so no media bytes flow; `track.enabled = false` would still send (silent or black) packets.
   */
  setKindOn(kind: Kind, on: boolean): void {
    this.#off[kind] = !on;
    for (const entry of this.#peers.values()) this.#applyKind(entry, kind);
  }

  /** The RTCPeerConnection of every peer by key (tests read getStats() from them). */
  connections(): Map<string, RTCPeerConnection> {
    const out = new Map<string, RTCPeerConnection>();
    for (const [id, entry] of this.#peers) out.set(id, pcOf(entry.peer));
    return out;
  }

  destroy(): void {
    this.#destroyed = true;
    for (const id of [...this.#peers.keys()]) this.close(id);
  }

  #create(peerId: PeerId, initiator: boolean, channel?: PeerChannel): Entry {
    const key = peerKey(peerId, channel);
    // The config is always passed: without it simple-peer would use public STUN servers.
    const peer = this.#factory({ initiator, trickle: true, config: { iceServers: this.#config.iceServers } });
    console.debug('[tandem] peer', key, initiator ? 'started' : 'answering');
    const entry: Entry = { peerId, channel, peer, initiator, fingerprint: null, sending: null, held: initiator ? null : [] };
    this.#peers.set(key, entry);
    const deliver = (stream: MediaStream) => {
      if (this.#peers.get(key) !== entry) return;
      const changed = () => this.#events.streamChanged(peerId, stream);
      stream.addEventListener('addtrack', changed);
      stream.addEventListener('removetrack', changed);
      this.#events.stream(peerId, stream, key);
    };
    peer.on('signal', (data: SimplePeer.SignalData) => {
      this.#send(peerId, data as PeerSignal, channel);
      if (data.type === 'answer') this.#answerLeft(entry);
      if (data.type === 'answer' && entry.held) {
        const held = entry.held;
        entry.held = null;
        setTimeout(() => held.forEach(deliver), 0);
      }
    });
    peer.on('stream', (stream: MediaStream) => {
      if (entry.held) entry.held.push(stream);
      else deliver(stream);
    });
    const gone = (err?: Error) => {
      if (this.#peers.get(key) !== entry) return;
      if (err) console.warn('[tandem] peer', key, 'failed:', err.message);
      this.close(key, true);
    };
    peer.on('close', () => gone());
    peer.on('error', (err: Error) => gone(err));
    // Call media goes on call peers only (targets are peer ids; a canvas peer's key never is one).
    if (this.#localTargets.has(key)) this.#startSending(entry);
    return entry;
  }

  #startSending(entry: Entry): void {
    const stream = this.#local;
    if (!stream || entry.sending === stream) return;
    try {
      entry.peer.addStream(stream);
      entry.sending = stream;
      this.#applyKind(entry, 'audio');
      this.#applyKind(entry, 'video');
    } catch (err) {
      console.warn('[tandem] could not add the call media to a peer', err);
    }
  }

  #stopSending(entry: Entry): void {
    const stream = entry.sending;
    if (!stream) return;
    entry.sending = null;
    try {
      entry.peer.removeStream(stream);
    } catch {
      // the peer is closing: nothing is sent anyway
    }
  }

  #applyKind(entry: Entry, kind: Kind): void {
    const stream = entry.sending;
    if (!stream) return;
    for (const track of kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks()) {
      try {
        entry.peer.replaceTrack(track, (this.#off[kind] ? null : track) as MediaStreamTrack, stream);
      } catch (err) {
        console.warn('[tandem] replaceTrack failed', err);
      }
    }
  }
}

/** simple-peer keeps its RTCPeerConnection in `_pc` (not in its types). */
function pcOf(peer: SimplePeer.Instance): RTCPeerConnection {
  return (peer as unknown as { _pc: RTCPeerConnection })._pc;
}
