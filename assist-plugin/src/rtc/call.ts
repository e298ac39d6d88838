import type { AssistAgent, PeerId } from '@tandem/protocol';
import { CallUi } from './call-ui.js';
import type { FeatureFactory } from './feature.js';
import { agentName } from './ui-kit.js';

/**
 * The user's side of a call (and of a group call: one peer per agent in `state.call.agents`).
 * Starts when `assist:state.call` names this tab (the user accepted): the user's microphone and
 * camera (both on by default) go to every agent in the call; each agent's media comes back on the
 * same peer and plays in the call panel. Mute and camera off replace the track by nothing on every
 * sender (bytes stop at once); the user's Hang up ends the call for everyone.
 */

/**
 * Camera size and rate: a small panel shows it, and in a mesh of up to MAX_CALL_AGENTS agents the
 * user's upload is one copy per agent, so 640×360 at 24 fps keeps it near 1–2 Mbit/s in total.
 */
const VIDEO: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
/** A peer of an agent still in the call that failed is started again after this (not in a tight loop). */
const REPEER_DELAY_MS = 1_500;

const USER = 'call';

export const createCall: FeatureFactory = (ctx) => {
  let active = false;
  let run = 0;
  let local: MediaStream | null = null;
  let muted = false;
  let cameraOff = false;
  let status = '';
  let agents: AssistAgent[] = [];
  const attached = new Set<PeerId>();
  const remote = new Map<PeerId, MediaStream>();
  let ui: CallUi | null = null;
  let repeer: ReturnType<typeof setTimeout> | null = null;

  /**
   * The call leaves a peer by closing it, never by `removeStream`: removing a stream leaves its
   * transceivers on the connection (stopped, direction inactive) and the next call adds new ones, so
   * the SDP grew by ~6 KB per call until the server refused it (MAX_SDP_BYTES) around the 10th call
   * (docs/decisions.md). Canvas video rides on its own peer (`ctx.canvasPeers`), so it goes on.
   */
  const dropPeer = (peerId: PeerId) => {
    if (ctx.peers.has(peerId)) ctx.peers.close(peerId);
  };

  const inCall = (peerId: PeerId) => agents.some((a) => a.peerId === peerId);

  const render = () => {
    if (!active) return;
    ui ??= new CallUi(ctx, { mute: toggleMute, camera: toggleCamera, hangup });
    ui.render({
      tiles: agents.map((a) => ({ peerId: a.peerId, name: agentName(a), stream: remote.get(a.peerId) ?? null })),
      local,
      muted,
      cameraOff,
      status,
    });
  };

  /** Applies mute / camera off to one peer's senders. */
  const applyTracks = (peerId: PeerId) => {
    if (!local) return;
    for (const t of local.getAudioTracks()) ctx.peers.setTrack(peerId, local, t, !muted);
    for (const t of local.getVideoTracks()) ctx.peers.setTrack(peerId, local, t, !cameraOff);
  };

  const sync = () => {
    if (!active) return;
    for (const a of agents) {
      if (!a || typeof a.peerId !== 'string') continue;
      if (!attached.has(a.peerId) || !ctx.peers.has(a.peerId)) {
        ctx.peers.acquire(a.peerId, USER);
        attached.add(a.peerId);
      }
      if (local) {
        ctx.peers.addStream(a.peerId, local);
        applyTracks(a.peerId);
      }
    }
    for (const id of [...attached]) {
      if (inCall(id)) continue;
      attached.delete(id);
      remote.delete(id);
      dropPeer(id);
    }
    render();
  };

  const getMedia = async () => {
    const mine = run;
    const media = ctx.doc.defaultView?.navigator?.mediaDevices;
    let stream: MediaStream | null = null;
    try {
      if (!media) throw new Error('no mediaDevices (insecure page?)');
      stream = await media.getUserMedia({ audio: true, video: VIDEO });
    } catch {
      // No camera (or it is refused): the user still talks.
      try {
        stream = (await media?.getUserMedia({ audio: true })) ?? null;
        status = 'Camera unavailable';
      } catch (err) {
        ctx.report(err, 'call media');
        status = 'Microphone and camera unavailable: you can listen';
      }
    }
    if (mine !== run || !active) {
      stream?.getTracks().forEach((t) => t.stop());
      return;
    }
    local = stream;
    sync();
  };

  const toggleMute = () => {
    muted = !muted;
    for (const id of attached) applyTracks(id);
    render();
  };

  const toggleCamera = () => {
    cameraOff = !cameraOff;
    // Disabled as well: the camera light goes off with it.
    for (const t of local?.getVideoTracks() ?? []) t.enabled = !cameraOff;
    for (const id of attached) applyTracks(id);
    render();
  };

  const end = () => {
    active = false;
    run++;
    if (repeer) clearTimeout(repeer);
    repeer = null;
    const ids = [...attached];
    attached.clear();
    for (const id of ids) dropPeer(id);
    remote.clear();
    local?.getTracks().forEach((t) => t.stop());
    local = null;
    ui?.destroy();
    ui = null;
  };

  /** The user's Hang up: the call ends for everyone at once, locally without waiting for the server. */
  const hangup = () => {
    ctx.send('assist:end', { feature: 'call' });
    end();
  };

  ctx.peers.onStream((peerId, stream) => {
    // Canvases only flow tab → agent: what an agent sends is its call media.
    if (!active || !inCall(peerId)) return;
    remote.set(peerId, stream);
    render();
  });
  ctx.peers.onClose((peerId) => {
    if (!attached.has(peerId)) return;
    attached.delete(peerId);
    remote.delete(peerId);
    render();
    if (active && inCall(peerId) && !repeer) {
      repeer = setTimeout(
        ctx.wrap('call repeer', () => {
          repeer = null;
          sync();
        }),
        REPEER_DELAY_MS,
      );
    }
  });

  return {
    name: 'call',
    onState(state) {
      const call = state.call && state.call.tabId === ctx.tabId() ? state.call : null;
      if (!call) {
        if (active) end();
        return;
      }
      agents = Array.isArray(call.agents) ? call.agents.filter((a) => a && typeof a.peerId === 'string') : [];
      if (!active) {
        active = true;
        muted = cameraOff = false;
        status = '';
        void getMedia();
      }
      sync();
    },
    promptText(req, state) {
      const name = agentName(req.agent);
      const on = !!state?.call && state.call.tabId === ctx.tabId() && state.call.agents.length > 0;
      return on ? `${name} wants to join the call` : `${name} from support would like to call you (microphone and camera)`;
    },
    summarize(s) {
      s.callActive = active;
      s.muted = active && muted;
      s.cameraOff = active && cameraOff;
      s.remoteMedia = [...remote.keys()];
    },
    dispose: end,
  };
};
