import { RECORDING_ROUTES, type CallRecording, type StartRecordingResponse } from '@tandem/protocol';
import type { ApiClient } from './client';

/** Call recordings (issue 7): the agent uploads while recording; the session page lists and plays them. */

/** Starts a recording of the call (the user granted `record` to this agent). */
export function startRecording(api: ApiClient, sessionId: string, body: { startedAt?: number; mimeType?: string } = {}): Promise<StartRecordingResponse> {
  return api.json(RECORDING_ROUTES.list(sessionId), { method: 'POST', body });
}

/** Chunk `index` of the webm, in order (the server appends). */
export async function putChunk(api: ApiClient, recordingId: string, index: number, blob: Blob): Promise<void> {
  await api.request(RECORDING_ROUTES.chunk(recordingId, index), { method: 'PUT', raw: blob, contentType: 'video/webm' });
}

export async function finishRecording(api: ApiClient, recordingId: string, durationMs: number): Promise<void> {
  await api.request(RECORDING_ROUTES.finish(recordingId), { method: 'POST', body: { durationMs: Math.max(0, Math.round(durationMs)) } });
}

export async function listRecordings(api: ApiClient, sessionId: string, signal?: AbortSignal): Promise<CallRecording[]> {
  const body = await api.json<CallRecording[] | { recordings?: CallRecording[]; items?: CallRecording[] }>(RECORDING_ROUTES.list(sessionId), { signal });
  const list = Array.isArray(body) ? body : (body.recordings ?? body.items ?? []);
  return [...list].sort((a, b) => a.startedAt - b.startedAt);
}

/** The media URL (same origin, login cookie); `download` asks for Content-Disposition: attachment. */
export function recordingUrl(recordingId: string, download = false): string {
  return RECORDING_ROUTES.media(recordingId) + (download ? '?download=1' : '');
}
