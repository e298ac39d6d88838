import type { PeerChannel, PeerId, PeerSignal, RtcConfig, SignalIn, TabRtcToServerEvents } from '@tandem/protocol';
import SimplePeer from 'simple-peer';

/**
 * One simple-peer per agent socket (`agent:<socketId>`) and channel, started by this tab (it is the
 * initiator; the agent answers and renegotiates through 'renegotiate' signals when it adds its own
 * media). Two instances exist: the call's (no channel) and the canvases' (`canvas`), so a call that
 * closes its peer never interrupts canvas video (signal.ts PeerChannel).
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
  /** Which of the pair's peers these are (absent: the call's). */
  channel?: PeerChannel;
  report(err: unknown, where: string): void;
  factory?: PeerFactory;
}

type Listener<A extends unknown[]> = (...args: A) => void;

export class Peers {
  private readonly entries = new Map<PeerId, Entry>();
  private iceServers: RtcConfig['iceServers'] = [];
  private readonly streamListeners = new Set<Listener<[PeerId, MediaStream]>>();
  /** `byUs`: this tab closed it (a feature released it, a call ended); false: it closed or failed by itself. */
  private readonly closeListeners = new Set<Listener<[PeerId, boolean]>>();
  private readonly connectListeners = new Set<Listener<[PeerId]>>();
  private readonly factory: PeerFactory;

  constructor(private readonly deps: PeersDeps) {
    this.factory = deps.factory ?? ((opts) => new SimplePeer(opts));
  }

  /**
   * ICE servers for new peers, and for the live ones (`setConfiguration`): the server sends fresh TURN
   * credentials before the old ones expire, and a long call or canvas stream must keep its relay.
   */
  setConfig(config: RtcConfig | null | undefined): void {
    if (!config || !Array.isArray(config.iceServers)) return;
    this.iceServers = config.iceServers;
    for (const id of this.ids()) {
      const pc = this.connection(id);
      if (!pc || pc.signalingState === 'closed') continue;
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.iceServers as RTCIceServer[] });
      } catch (err) {
        this.deps.report(err, 'ice config');
      }
    }
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

  /** Sends `stream` on the peer; false when it already does (or there is no peer). */
  addStream(peerId: PeerId, stream: MediaStream): boolean {
    const entry = this.entries.get(peerId);
    if (!entry || entry.streams.has(stream)) return false;
    entry.streams.add(stream);
    entry.peer.addStream(stream);
    return true;
  }

  /** The RTCRtpSender carrying `track` of `stream` (its encoding parameters), null if none. */
  sender(peerId: PeerId, stream: MediaStream, track: MediaStreamTrack): RTCRtpSender | null {
    const entry = this.entries.get(peerId);
    const map = (entry?.peer as unknown as { _senderMap?: Map<MediaStreamTrack, Map<MediaStream, RTCRtpSender>> })?._senderMap;
    return map?.get(track)?.get(stream) ?? null;
  }

  removeStream(peerId: PeerId, stream: MediaStream): void {
    const entry = this.entries.get(peerId);
    if (!entry || !entry.streams.has(stream)) return;
    entry.streams.delete(stream);
    if (++entry.removed > MAX_REMOVED_STREAMS) {
      this.close(peerId); // byUs: the feature that removed it starts a fresh one if it still needs one
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
    if ((msg?.channel ?? undefined) !== this.deps.channel) return;
    const entry = this.entries.get(msg?.from);
    if (!entry || !msg.signal || typeof msg.signal !== 'object') return;
    entry.peer.signal(msg.signal as SimplePeer.SignalData);
  }

  close(peerId: PeerId, byUs = true): void {
    const entry = this.entries.get(peerId);
    if (!entry) return;
    this.entries.delete(peerId);
    entry.peer.destroy();
    for (const fn of this.closeListeners) this.call(fn, 'peer close', peerId, byUs);
  }

  closeAll(): void {
    for (const id of this.ids()) this.close(id);
  }

  onStream(fn: Listener<[PeerId, MediaStream]>): () => void {
    this.streamListeners.add(fn);
    return () => void this.streamListeners.delete(fn);
  }

  onClose(fn: Listener<[PeerId, boolean]>): () => void {
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
    const channel = this.deps.channel;
    peer.on('signal', (signal: PeerSignal) => {
      if (mine()) this.deps.send({ to: peerId, signal, ...(channel ? { channel } : {}) });
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
      if (mine()) this.close(peerId, false);
    });
    peer.on('error', (err: Error) => {
      this.deps.report(err, 'peer');
      if (mine()) this.close(peerId, false);
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
