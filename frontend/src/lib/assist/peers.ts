import './shims';
import type { PeerId, PeerSignal, RtcConfig } from '@tandem/protocol';
import SimplePeer from 'simple-peer';
import { fingerprintOf } from './sdp';

/**
 * The agent's WebRTC peers of one session (simple-peer, trickle ICE), signalled through `rtc:signal`:
 * - towards the user's tab the agent is the non-initiator: the tab starts the peer (an offer arrives)
 *   when it has canvases to stream or a call starts, and the agent answers;
 * - towards another agent in a group call, the peer whose id sorts first initiates (signal.ts R5).
 * The call's own media (`setLocalMedia`) goes to the peers chosen by the call module; adding it to a
 * peer we did not start makes simple-peer ask the other side to renegotiate (`renegotiate` signal).
 */
export interface PeerMeshEvents {
  /** A remote stream arrived (call media or a canvas). */
  stream(peerId: PeerId, stream: MediaStream): void;
  /** A remote stream lost or gained tracks. */
  streamChanged(peerId: PeerId, stream: MediaStream): void;
  /** The peer is gone: `failed` when it closed or failed by itself, not because we closed it. */
  closed(peerId: PeerId, failed: boolean): void;
}

type Kind = 'audio' | 'video';

interface Entry {
  peer: SimplePeer.Instance;
  initiator: boolean;
  /** DTLS fingerprint of the other side: a different one in a new offer means a new peer there (reload). */
  fingerprint: string | null;
  /** The local stream this peer carries now. */
  sending: MediaStream | null;
}

export class PeerMesh {
  #peers = new Map<PeerId, Entry>();
  #config: RtcConfig = { iceServers: [] };
  #send: (to: PeerId, signal: PeerSignal) => void;
  #events: PeerMeshEvents;
  #local: MediaStream | null = null;
  #localTargets = new Set<PeerId>();
  #off: Record<Kind, boolean> = { audio: false, video: false };
  #destroyed = false;

  constructor(send: (to: PeerId, signal: PeerSignal) => void, events: PeerMeshEvents) {
    this.#send = send;
    this.#events = events;
  }

  /** ICE servers for peers created from now on (`rtc:config`; an empty list on loopback and in tests). */
  setConfig(config: RtcConfig): void {
    this.#config = { iceServers: config.iceServers ?? [] };
  }

  /** A signal from `from`: answered by its peer, created on an offer if there is none yet. */
  signal(from: PeerId, signal: PeerSignal): void {
    if (this.#destroyed) return;
    let entry = this.#peers.get(from);
    if (signal.type === 'offer') {
      const fingerprint = fingerprintOf(signal.sdp);
      if (entry && !entry.initiator && entry.fingerprint && fingerprint && entry.fingerprint !== fingerprint) {
        // The other side started over (the user's page reloaded): this peer is dead, answer with a new one.
        this.close(from);
        entry = undefined;
      }
      if (!entry) entry = this.#create(from, false);
      entry.fingerprint = fingerprint ?? entry.fingerprint;
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

  has(peerId: PeerId): boolean {
    return this.#peers.has(peerId);
  }

  ids(): PeerId[] {
    return [...this.#peers.keys()];
  }

  close(peerId: PeerId, failed = false): void {
    const entry = this.#peers.get(peerId);
    if (!entry) return;
    this.#peers.delete(peerId);
    console.debug('[tandem] peer', peerId, failed ? 'failed' : 'closed');
    entry.peer.removeAllListeners();
    entry.peer.destroy();
    this.#events.closed(peerId, failed);
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

  /** The RTCPeerConnection of every peer (tests read getStats() from them). */
  connections(): Map<PeerId, RTCPeerConnection> {
    const out = new Map<PeerId, RTCPeerConnection>();
    for (const [id, entry] of this.#peers) out.set(id, pcOf(entry.peer));
    return out;
  }

  destroy(): void {
    this.#destroyed = true;
    for (const id of [...this.#peers.keys()]) this.close(id);
  }

  #create(peerId: PeerId, initiator: boolean): Entry {
    // The config is always passed: without it simple-peer would use public STUN servers.
    const peer = new SimplePeer({ initiator, trickle: true, config: { iceServers: this.#config.iceServers } });
    console.debug('[tandem] peer', peerId, initiator ? 'started' : 'answering');
    const entry: Entry = { peer, initiator, fingerprint: null, sending: null };
    this.#peers.set(peerId, entry);
    peer.on('signal', (data: SimplePeer.SignalData) => this.#send(peerId, data as PeerSignal));
    peer.on('stream', (stream: MediaStream) => {
      const changed = () => this.#events.streamChanged(peerId, stream);
      stream.addEventListener('addtrack', changed);
      stream.addEventListener('removetrack', changed);
      this.#events.stream(peerId, stream);
    });
    const gone = (err?: Error) => {
      if (this.#peers.get(peerId) !== entry) return;
      if (err) console.warn('[tandem] peer', peerId, 'failed:', err.message);
      this.close(peerId, true);
    };
    peer.on('close', () => gone());
    peer.on('error', (err: Error) => gone(err));
    if (this.#localTargets.has(peerId)) this.#startSending(entry);
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
