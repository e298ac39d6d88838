import type { PeerId, PeerSignal, RtcConfig, SignalIn, TabRtcToServerEvents } from '@tandem/protocol';
import SimplePeer from 'simple-peer';

/**
 * One simple-peer per agent socket (`agent:<socketId>`), started by this tab (it is the initiator;
 * the agent answers and renegotiates through 'renegotiate' signals when it adds its own media).
 * Signalling goes only through `rtc:signal`; ICE servers come from `rtc:config` (none in tests).
 *
 * Several features share a peer (the call's stream and the canvases' streams ride on one
 * connection): each holds it with `acquire(peer, feature)`, and the peer is closed when the last
 * feature releases it.
 */

/**
 * Streams removed from one peer before it is closed and started anew instead. simple-peer's
 * `removeStream` leaves the stream's transceivers on the connection (stopped, direction inactive),
 * so each removal keeps ~3 KB of dead m-line in every later offer; canvases that come and go would
 * otherwise grow the SDP until the server refuses it (MAX_SDP_BYTES, 64 KB). Four dead video lines
 * plus MAX_CANVAS_STREAMS live ones and a call stay well under it. Closing is the existing recovery
 * path: the agent sees its peer close and asks again (`canvas:want`), a call re-peers.
 */
export const MAX_REMOVED_STREAMS = 4;

export type PeerFactory = (opts: SimplePeer.Options) => SimplePeer.Instance;

interface Entry {
  peer: SimplePeer.Instance;
  users: Set<string>;
  streams: Set<MediaStream>;
  /** Streams removed so far (their transceivers are still on the connection). */
  removed: number;
  connected: boolean;
}

export interface PeersDeps {
  send(msg: Parameters<TabRtcToServerEvents['rtc:signal']>[0]): void;
  report(err: unknown, where: string): void;
  factory?: PeerFactory;
}

type Listener<A extends unknown[]> = (...args: A) => void;

export class Peers {
  private readonly entries = new Map<PeerId, Entry>();
  private iceServers: RtcConfig['iceServers'] = [];
  private readonly streamListeners = new Set<Listener<[PeerId, MediaStream]>>();
  private readonly closeListeners = new Set<Listener<[PeerId]>>();
  private readonly connectListeners = new Set<Listener<[PeerId]>>();
  private readonly factory: PeerFactory;

  constructor(private readonly deps: PeersDeps) {
    this.factory = deps.factory ?? ((opts) => new SimplePeer(opts));
  }

  setConfig(config: RtcConfig | null | undefined): void {
    if (config && Array.isArray(config.iceServers)) this.iceServers = config.iceServers;
  }

  ids(): PeerId[] {
    return [...this.entries.keys()];
  }

  has(peerId: PeerId): boolean {
    return this.entries.has(peerId);
  }

  connected(peerId: PeerId): boolean {
    return !!this.entries.get(peerId)?.connected;
  }

  /** The RTCPeerConnection (for getStats in tests and support tooling). */
  connection(peerId: PeerId): RTCPeerConnection | null {
    return ((this.entries.get(peerId)?.peer as unknown as { _pc?: RTCPeerConnection })?._pc) ?? null;
  }

  /** Holds the peer to `peerId` for `user`, starting it if needed. */
  acquire(peerId: PeerId, user: string): void {
    let entry = this.entries.get(peerId);
    if (!entry) {
      const peer = this.factory({
        initiator: true,
        trickle: true,
        config: { iceServers: this.iceServers as RTCIceServer[] },
      });
      entry = { peer, users: new Set(), streams: new Set(), removed: 0, connected: false };
      this.entries.set(peerId, entry);
      this.wire(peerId, entry);
    }
    entry.users.add(user);
  }

  /** `user` no longer needs the peer; the last one closes it. */
  release(peerId: PeerId, user: string): void {
    const entry = this.entries.get(peerId);
    if (!entry) return;
    entry.users.delete(user);
    if (!entry.users.size) this.close(peerId);
  }

  addStream(peerId: PeerId, stream: MediaStream): void {
    const entry = this.entries.get(peerId);
    if (!entry || entry.streams.has(stream)) return;
    entry.streams.add(stream);
    entry.peer.addStream(stream);
  }

  removeStream(peerId: PeerId, stream: MediaStream): void {
    const entry = this.entries.get(peerId);
    if (!entry || !entry.streams.has(stream)) return;
    entry.streams.delete(stream);
    if (++entry.removed > MAX_REMOVED_STREAMS) {
      this.close(peerId);
      return;
    }
    try {
      entry.peer.removeStream(stream);
    } catch (err) {
      this.deps.report(err, 'remove stream');
    }
  }

  /**
   * Sends `track` again (`on`) or nothing in its place (`RTCRtpSender.replaceTrack(null)`): bytes stop
   * at once, unlike `track.enabled = false`, which keeps sending silence or black frames.
   */
  setTrack(peerId: PeerId, stream: MediaStream, track: MediaStreamTrack, on: boolean): void {
    const entry = this.entries.get(peerId);
    if (!entry || !entry.streams.has(stream)) return;
    try {
      entry.peer.replaceTrack(track, on ? track : (null as unknown as MediaStreamTrack), stream);
    } catch (err) {
      this.deps.report(err, 'replace track');
    }
  }

  /** A signal from the server (`from` set by the server, R5). Signals for a peer we do not have are stale. */
  signal(msg: SignalIn): void {
    const entry = this.entries.get(msg?.from);
    if (!entry || !msg.signal || typeof msg.signal !== 'object') return;
    entry.peer.signal(msg.signal as SimplePeer.SignalData);
  }

  close(peerId: PeerId): void {
    const entry = this.entries.get(peerId);
    if (!entry) return;
    this.entries.delete(peerId);
    entry.peer.destroy();
    for (const fn of this.closeListeners) this.call(fn, 'peer close', peerId);
  }

  closeAll(): void {
    for (const id of this.ids()) this.close(id);
  }

  onStream(fn: Listener<[PeerId, MediaStream]>): () => void {
    this.streamListeners.add(fn);
    return () => void this.streamListeners.delete(fn);
  }

  onClose(fn: Listener<[PeerId]>): () => void {
    this.closeListeners.add(fn);
    return () => void this.closeListeners.delete(fn);
  }

  onConnect(fn: Listener<[PeerId]>): () => void {
    this.connectListeners.add(fn);
    return () => void this.connectListeners.delete(fn);
  }

  private wire(peerId: PeerId, entry: Entry): void {
    const { peer } = entry;
    const mine = () => this.entries.get(peerId) === entry;
    peer.on('signal', (signal: PeerSignal) => {
      if (mine()) this.deps.send({ to: peerId, signal });
    });
    peer.on('connect', () => {
      if (!mine()) return;
      entry.connected = true;
      for (const fn of this.connectListeners) this.call(fn, 'peer connect', peerId);
    });
    peer.on('stream', (stream: MediaStream) => {
      if (!mine()) return;
      for (const fn of this.streamListeners) this.call(fn, 'peer stream', peerId, stream);
    });
    // The agent went away or the connection failed: whoever still needs it starts a new one.
    peer.on('close', () => {
      if (mine()) this.close(peerId);
    });
    peer.on('error', (err: Error) => {
      this.deps.report(err, 'peer');
      if (mine()) this.close(peerId);
    });
  }

  private call<A extends unknown[]>(fn: Listener<A>, where: string, ...args: A): void {
    try {
      fn(...args);
    } catch (err) {
      this.deps.report(err, where);
    }
  }
}
