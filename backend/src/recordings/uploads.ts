import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { TandemError, type StartRecordingResponse } from '@tandem/protocol';
import type { StoredCallRecording, Store } from '@tandem/storage';
import type { Metrics } from '../metrics.js';

/**
 * Call recordings being uploaded: the agent's MediaRecorder sends a chunk about every second, in
 * order, and each one is appended to `<dataDir>/recordings/<projectId>/<recordingId>.webm` as it
 * arrives, so a crash loses at most the chunk in flight. Metadata (bytes, duration) is rewritten in
 * storage now and then and at the end.
 *
 * Uploads live in memory: after a server restart an unfinished recording takes no more chunks (its
 * file and metadata stay, `complete: false`).
 */

/** Who uploads: the agent the grant was for. */
export interface Uploader {
  projectId: string;
  agentId: string;
  via: 'login' | 'watch-link';
  name: string;
}

interface Upload {
  meta: StoredCallRecording;
  uploader: Uploader;
  file: string;
  nextIndex: number;
  lastChunkBytes: number;
  /** When the grant ended (user stopped, hang-up, agent gone); chunks are taken for a short tail after. */
  endedAt: number | null;
  lastMetaWrite: number;
  /** Chunks are appended one at a time, in order. */
  lock: Promise<unknown>;
}

export interface UploadLimits {
  maxChunkBytes: number;
  maxBytes: number;
  /** Chunks taken this long after the grant ended (config.recordingTailMs, where the why is). */
  tailMs: number;
}

/** Metadata is rewritten at most this often while chunks arrive (each write is an INSERT). */
const META_INTERVAL_MS = 5_000;
/** After the tail, this long for a finish in flight before the server closes the upload itself. */
const ABANDON_AFTER_TAIL_MS = 5_000;
/** A recording lasts at most a day (duration sent by the client at finish is bounded by this). */
const MAX_DURATION_MS = 24 * 3_600_000;

/** Project ids become directory names: only safe characters (ids we mint are; a stored odd one is encoded). */
const safeSegment = (s: string) => (/^[A-Za-z0-9_-]{1,128}$/.test(s) ? s : encodeURIComponent(s).replaceAll('%', '_'));

export function recordingsRoot(dataDir: string): string {
  return path.join(dataDir, 'recordings');
}

export function recordingFile(dataDir: string, projectId: string, recordingId: string): string {
  return path.join(recordingsRoot(dataDir), safeSegment(projectId), `${safeSegment(recordingId)}.webm`);
}

export class RecordingUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly dataDir: string,
    private readonly store: Store,
    private readonly limits: UploadLimits,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  async start(uploader: Uploader, sessionId: string, startedAt: number, mimeType: string): Promise<StartRecordingResponse> {
    const recordingId = randomUUID();
    const file = recordingFile(this.dataDir, uploader.projectId, recordingId);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, new Uint8Array(0), { flag: 'wx' });
    const meta: StoredCallRecording = {
      projectId: uploader.projectId, sessionId, recordingId, agentId: uploader.agentId, agentName: uploader.name,
      startedAt, durationMs: 0, bytes: 0, mimeType, complete: false,
    };
    await this.store.saveCallRecording(meta);
    this.uploads.set(recordingId, {
      meta, uploader, file, nextIndex: 0, lastChunkBytes: -1, endedAt: null, lastMetaWrite: Date.now(), lock: Promise.resolve(),
    });
    return { recordingId, maxChunkBytes: this.limits.maxChunkBytes };
  }

  /**
   * The grant of this recording ended: chunks are taken for `tailMs` more. A recorder that never calls
   * finish (its tab crashed or closed) is closed by the server a moment after the tail: its metadata
   * gets the last byte count and duration, and it stops taking memory here.
   */
  grantEnded(recordingId: string): void {
    const u = this.uploads.get(recordingId);
    if (!u || u.endedAt !== null) return;
    u.endedAt = Date.now();
    const timer = setTimeout(() => {
      if (this.uploads.get(recordingId) !== u) return;
      this.uploads.delete(recordingId);
      void this.locked(u, () => this.store.saveCallRecording(u.meta));
    }, this.limits.tailMs + ABANDON_AFTER_TAIL_MS);
    timer.unref();
  }

  async chunk(uploader: Uploader, recordingId: string, index: number, body: Buffer): Promise<{ index: number; bytes: number }> {
    const u = this.owned(uploader, recordingId);
    return this.locked(u, async () => {
      if (index === u.nextIndex - 1 && body.length === u.lastChunkBytes) {
        // A retry of the last chunk (its answer was lost): already stored, not appended twice.
        return { index, bytes: u.meta.bytes };
      }
      if (index !== u.nextIndex) throw new TandemError('bad_request', `Chunk ${u.nextIndex} is expected next, got ${index}`);
      if (u.endedAt !== null && Date.now() - u.endedAt > this.limits.tailMs) {
        throw new TandemError('forbidden', 'The recording was stopped; no more chunks are taken');
      }
      if (!body.length) throw new TandemError('bad_request', 'A chunk cannot be empty');
      if (u.meta.bytes + body.length > this.limits.maxBytes) {
        throw new TandemError('payload_too_large', `A recording is at most ${this.limits.maxBytes} bytes`);
      }
      await appendFile(u.file, body);
      u.nextIndex++;
      u.lastChunkBytes = body.length;
      u.meta = { ...u.meta, bytes: u.meta.bytes + body.length, durationMs: Math.min(MAX_DURATION_MS, Date.now() - u.meta.startedAt) };
      this.metrics.recordingBytes.inc(body.length);
      if (Date.now() - u.lastMetaWrite >= META_INTERVAL_MS) {
        u.lastMetaWrite = Date.now();
        await this.store.saveCallRecording(u.meta);
      }
      return { index, bytes: u.meta.bytes };
    });
  }

  async finish(uploader: Uploader, recordingId: string, durationMs: number): Promise<StoredCallRecording> {
    if (!(durationMs >= 0 && durationMs <= MAX_DURATION_MS)) throw new TandemError('bad_request', `durationMs must be 0..${MAX_DURATION_MS}`);
    const u = this.uploads.get(recordingId);
    if (!u) {
      // Finishing twice (a retry) answers the stored result; finishing one the server closed (late, or
      // after a restart) marks what was stored complete.
      const stored = await this.store.getCallRecording(uploader.projectId, recordingId);
      if (!stored || stored.agentId !== uploader.agentId) {
        throw new TandemError('not_found', 'No recording with this id of yours');
      }
      if (stored.complete) return stored;
      // The metadata is rewritten every few seconds only: the file has the true size.
      const bytes = await stat(recordingFile(this.dataDir, uploader.projectId, recordingId)).then((st) => st.size, () => stored.bytes);
      const done = { ...stored, bytes, durationMs: Math.round(durationMs), complete: true };
      await this.store.saveCallRecording(done);
      return done;
    }
    this.owned(uploader, recordingId);
    return this.locked(u, async () => {
      u.meta = { ...u.meta, durationMs: Math.round(durationMs), complete: true };
      await this.store.saveCallRecording(u.meta);
      this.uploads.delete(recordingId);
      return u.meta;
    });
  }

  /** This process holds the recording's upload (else, on a cluster, another node may: cluster-recordings.ts). */
  holds(recordingId: string): boolean {
    return this.uploads.has(recordingId);
  }

  /** Uploads still open (for tests and metrics). */
  get open(): number {
    return this.uploads.size;
  }

  private owned(uploader: Uploader, recordingId: string): Upload {
    const u = this.uploads.get(recordingId);
    if (!u || u.uploader.projectId !== uploader.projectId) {
      throw new TandemError('not_found', 'No recording in progress with this id (finished, or the server restarted)');
    }
    if (u.uploader.agentId !== uploader.agentId || u.uploader.via !== uploader.via) {
      throw new TandemError('forbidden', 'Only the agent who started this recording may add to it');
    }
    return u;
  }

  private locked<T>(u: Upload, fn: () => Promise<T>): Promise<T> {
    const run = u.lock.then(fn, fn);
    u.lock = run.catch((err) => {
      if (!(err instanceof TandemError)) this.log.warn({ err, recordingId: u.meta.recordingId }, 'recordings: chunk failed');
    });
    return run;
  }
}
