import { tabPeerId, type AssistState, type PeerId } from '@tandem/protocol';
import type { AssistContext, AssistModule } from './module';
import { holds } from './status';

/**
 * The agent's side of a call. While `assist:state.call` lists this agent: its camera and microphone go
 * to the call's tab and to every other agent in the call (everyone hears everyone: a full mesh, fine
 * up to MAX_CALL_AGENTS; docs/webrtc.md), and it starts the peers it initiates (towards agents whose
 * peer id sorts after its own). Mute and camera-off replace the sender's track by none (peers.ts).
 */
export class CallModule implements AssistModule {
  readonly name = 'call' as const;
  /** This agent's camera + mic while in the call (null before getUserMedia answers, or without devices). */
  local = $state.raw<MediaStream | null>(null);
  muted = $state(false);
  cameraOff = $state(false);
  inCall = $state(false);
  /** Why there is no local media (no device, permission refused): shown, the call goes on receive-only. */
  mediaError = $state<string | null>(null);
  /** Peers of the call now (the tab and the other agents). */
  members = $state.raw<PeerId[]>([]);

  #ctx: AssistContext;
  #starting: Promise<void> | null = null;
  /** getUserMedia was asked once for this call (a refusal is not asked again on every state change). */
  #mediaAsked = false;
  #state: AssistState | null = null;
  #self: PeerId | null = null;

  constructor(ctx: AssistContext) {
    this.#ctx = ctx;
  }

  update(state: AssistState | null, self: PeerId | null): void {
    this.#state = state;
    this.#self = self;
    const inCall = holds(state, 'call', self);
    this.inCall = inCall;
    if (!inCall || !state?.call || !self) {
      this.#leave();
      return;
    }
    if (!this.local && !this.#starting && !this.#mediaAsked) {
      this.#mediaAsked = true;
      this.#starting = this.#openMedia().finally(() => {
        this.#starting = null;
        this.#wire();
      });
      return;
    }
    if (!this.#starting) this.#wire();
  }

  /** Who gets this agent's media, and which peers this agent starts; agent peers no longer in the call close. */
  #wire(): void {
    const state = this.#state;
    const self = this.#self;
    if (!state?.call || !self || !holds(state, 'call', self)) return;
    const others = state.call.agents.map((a) => a.peerId).filter((id) => id !== self);
    const members = [tabPeerId(state.call.tabId), ...others];
    this.members = members;
    this.#ctx.mesh.setLocalMedia(this.local, members);
    for (const id of others) if (self < id) this.#ctx.mesh.connect(id);
    for (const id of this.#ctx.mesh.ids()) if (id.startsWith('agent:') && !others.includes(id)) this.#ctx.mesh.close(id);
  }

  async #openMedia(): Promise<void> {
    this.mediaError = null;
    const media = navigator.mediaDevices;
    if (!media?.getUserMedia) {
      this.mediaError = 'This browser cannot share a microphone here (needs HTTPS).';
      return;
    }
    // Camera and microphone; without a camera, the microphone alone; without both, listen only.
    for (const constraints of [{ audio: true, video: true }, { audio: true, video: false }]) {
      try {
        const stream = await media.getUserMedia(constraints);
        if (!this.inCall) {
          for (const t of stream.getTracks()) t.stop();
          return;
        }
        this.local = stream;
        if (!constraints.video) this.mediaError = 'No camera: sending sound only.';
        return;
      } catch (err) {
        this.mediaError = `No microphone or camera: ${(err as Error).message || 'permission refused'}. You can still hear and see the user.`;
      }
    }
  }

  #leave(): void {
    this.#mediaAsked = false;
    this.members = [];
    this.#ctx.mesh.setLocalMedia(null, []);
    for (const id of this.#ctx.mesh.ids()) if (id.startsWith('agent:')) this.#ctx.mesh.close(id);
    const local = this.local;
    this.local = null;
    if (local) for (const t of local.getTracks()) t.stop();
    this.muted = false;
    this.cameraOff = false;
    this.#ctx.mesh.setKindOn('audio', true);
    this.#ctx.mesh.setKindOn('video', true);
  }

  toggleMute(): void {
    this.muted = !this.muted;
    this.#ctx.mesh.setKindOn('audio', !this.muted);
  }

  toggleCamera(): void {
    this.cameraOff = !this.cameraOff;
    this.#ctx.mesh.setKindOn('video', !this.cameraOff);
  }

  /** Leaves the call (it ends for everyone when no agent is left); the state confirms it. */
  hangUp(): void {
    this.#ctx.socket.emit('assist:end', { sessionId: this.#ctx.sessionId, feature: 'call' });
    this.#leave();
    this.inCall = false;
  }

  destroy(): void {
    this.#leave();
  }
}
