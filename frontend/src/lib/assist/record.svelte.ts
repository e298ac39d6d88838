import type { AssistState, PeerId } from '@tandem/protocol';
import type { ApiClient } from '../api/client';
import { finishRecording, putChunk, startRecording } from '../api/recordings';
import type { CallModule } from './call.svelte';
import type { AssistContext, AssistModule } from './module';
import type { RemoteStreams } from './remote-streams.svelte';
import { splitBlob } from './chunks';

/** MediaRecorder hands over a chunk every second: a crash or a closed tab loses at most about that much. */
export const TIMESLICE_MS = 1_000;
/** Upload retries per chunk (a network blip), with this much more wait each time. */
const UPLOAD_RETRIES = 3;
const RETRY_STEP_MS = 500;

/**
 * Call recording (agent side). When `assist:state.recording` names this agent (the user consented), it
 * starts a recording on the server, mixes the call's audio with Web Audio (every remote call stream +
 * its own microphone), takes the user's camera track if there is one (else its own camera), records
 * webm with MediaRecorder and uploads every chunk in order while recording. It stops when the state
 * drops the recording (hang-up, the user or the agent stopping it, the call ending).
 */
export class RecordModule implements AssistModule {
  readonly name = 'record' as const;
  recording = $state(false);
  /** Chunks uploaded, and the recording's id on the server (read-outs for tests). */
  uploaded = $state(0);
  recordingId = $state<string | null>(null);
  error = $state<string | null>(null);

  #ctx: AssistContext;
  #api: ApiClient;
  #call: CallModule;
  #streams: RemoteStreams;
  #session: Session | null = null;
  #starting = false;
  /** The grant (its `startedAt`) a start was tried for: one try per consent, not one per state change. */
  #triedGrant: number | null = null;
  #stopEffect: () => void;

  constructor(ctx: AssistContext, api: ApiClient, call: CallModule, streams: RemoteStreams) {
    this.#ctx = ctx;
    this.#api = api;
    this.#call = call;
    this.#streams = streams;
    // New voices joining the call during a recording join the mix.
    this.#stopEffect = $effect.root(() => {
      $effect(() => {
        const sources = [this.#call.local, ...this.#streams.call.map((r) => r.stream)];
        this.#session?.connect(sources);
      });
    });
  }

  update(state: AssistState | null, self: PeerId | null): void {
    const mine = !!state?.recording && state.recording.agent.peerId === self;
    if (mine && !this.#session && !this.#starting && this.#triedGrant !== state!.recording!.startedAt) {
      this.#triedGrant = state!.recording!.startedAt;
      void this.#start();
    }
    else if (!mine && this.#session) void this.#stop();
  }

  /** Stops recording (the state confirms; uploading finishes in the background). */
  stopRequest(): void {
    this.#ctx.socket.emit('assist:end', { sessionId: this.#ctx.sessionId, feature: 'record' });
  }

  async #start(): Promise<void> {
    this.#starting = true;
    this.error = null;
    try {
      const mimeType = pickMimeType();
      const { recordingId, maxChunkBytes } = await startRecording(this.#api, this.#ctx.sessionId, mimeType ? { mimeType } : {});
      // The grant may have ended while we asked.
      const state = this.#ctx.state();
      if (!state?.recording || state.recording.agent.peerId !== this.#ctx.self()) {
        await finishRecording(this.#api, recordingId, 0).catch(() => {});
        return;
      }
      const session = new Session(recordingId, maxChunkBytes, mimeType, (blob, index) => this.#upload(recordingId, index, blob));
      session.start(this.#pickVideo(), [this.#call.local, ...this.#streams.call.map((r) => r.stream)]);
      this.#session = session;
      this.recordingId = recordingId;
      this.uploaded = 0;
      this.recording = true;
    } catch (err) {
      this.error = `Could not start the recording: ${(err as Error).message}`;
    } finally {
      this.#starting = false;
    }
  }

  /** The user's camera if it is on, else this agent's own. */
  #pickVideo(): MediaStreamTrack | null {
    const callTab = this.#ctx.state()?.call?.tabId;
    const fromUser = this.#streams.call.find((r) => r.peerId === `tab:${callTab}`)?.stream.getVideoTracks().find((t) => t.readyState === 'live');
    return fromUser ?? this.#call.local?.getVideoTracks().find((t) => t.readyState === 'live') ?? null;
  }

  async #upload(recordingId: string, index: number, blob: Blob): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await putChunk(this.#api, recordingId, index, blob);
        this.uploaded++;
        return;
      } catch (err) {
        if (attempt >= UPLOAD_RETRIES) {
          this.error = `A piece of the recording could not be uploaded: ${(err as Error).message}`;
          throw err;
        }
        await new Promise((r) => setTimeout(r, RETRY_STEP_MS * (attempt + 1)));
      }
    }
  }

  async #stop(): Promise<void> {
    const session = this.#session;
    this.#session = null;
    this.recording = false;
    if (!session) return;
    try {
      const durationMs = await session.stop();
      await finishRecording(this.#api, session.recordingId, durationMs);
    } catch (err) {
      this.error = `The recording did not finish cleanly: ${(err as Error).message}`;
    }
  }

  destroy(): void {
    this.#stopEffect();
    void this.#stop();
  }
}

/** One MediaRecorder run: the audio mix, the recorder, and chunks uploaded strictly in order. */
class Session {
  readonly recordingId: string;
  #maxChunkBytes: number;
  #upload: (blob: Blob, index: number) => Promise<void>;
  #audio = new AudioContext();
  #mix = this.#audio.createMediaStreamDestination();
  #connected = new Map<string, MediaStreamAudioSourceNode>();
  #recorder: MediaRecorder | null = null;
  #index = 0;
  #queue: Promise<void> = Promise.resolve();
  #startedAt = 0;
  #mimeType: string | undefined;

  constructor(recordingId: string, maxChunkBytes: number, mimeType: string | undefined, upload: (blob: Blob, index: number) => Promise<void>) {
    this.recordingId = recordingId;
    this.#mimeType = mimeType;
    this.#maxChunkBytes = maxChunkBytes > 0 ? maxChunkBytes : Number.POSITIVE_INFINITY;
    this.#upload = upload;
  }

  start(video: MediaStreamTrack | null, sources: (MediaStream | null)[]): void {
    this.connect(sources);
    const tracks = [...this.#mix.stream.getAudioTracks(), ...(video ? [video] : [])];
    const mimeType = this.#mimeType;
    const recorder = new MediaRecorder(new MediaStream(tracks), mimeType ? { mimeType } : undefined);
    recorder.ondataavailable = (e) => {
      if (!e.data.size) return;
      for (const piece of splitBlob(e.data, this.#maxChunkBytes)) {
        const index = this.#index++;
        this.#queue = this.#queue.then(() => this.#upload(piece, index));
      }
    };
    this.#recorder = recorder;
    this.#startedAt = performance.now();
    recorder.start(TIMESLICE_MS);
    void this.#audio.resume();
  }

  /** Adds the audio of streams not yet in the mix. */
  connect(sources: (MediaStream | null)[]): void {
    for (const stream of sources) {
      if (!stream || this.#connected.has(stream.id) || stream.getAudioTracks().length === 0) continue;
      try {
        const node = this.#audio.createMediaStreamSource(stream);
        node.connect(this.#mix);
        this.#connected.set(stream.id, node);
      } catch (err) {
        console.warn('[tandem] could not mix a call stream into the recording', err);
      }
    }
  }

  /** Stops, waits for the last chunk's upload; returns the duration. */
  async stop(): Promise<number> {
    const recorder = this.#recorder;
    const durationMs = performance.now() - this.#startedAt;
    if (recorder && recorder.state !== 'inactive') {
      const stopped = new Promise<void>((resolve) => recorder.addEventListener('stop', () => resolve(), { once: true }));
      recorder.stop();
      await stopped;
    }
    for (const node of this.#connected.values()) node.disconnect();
    void this.#audio.close();
    await this.#queue;
    return durationMs;
  }
}

/** webm with VP8 + Opus where the browser can (every Chromium and Firefox); the server stores webm only. */
function pickMimeType(): string | undefined {
  return ['video/webm;codecs=vp8,opus', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
}
