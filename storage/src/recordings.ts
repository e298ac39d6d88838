import type { CallRecording } from '@tandem/protocol';
import { chTime } from './encode.js';
import type { Driver, StoredCallRecording } from './types.js';

/**
 * Call recordings' metadata (the media is a file the backend keeps under its data dir). One row per
 * recording in ReplacingMergeTree(version): every chunk or finish writes a new version with the new
 * byte count and duration, and reads use FINAL. Rows expire like sessions (retentionDays, by the
 * server's receive time); the backend's sweeper deletes the files.
 */

type Raw = Record<string, unknown>;

const COLUMNS = `project_id, session_id, recording_id, agent_id, agent_name, toUnixTimestamp64Milli(started_at) AS started_ms,
  duration_ms, bytes, mime_type, complete`;

const toRecording = (r: Raw): StoredCallRecording => ({
  projectId: String(r.project_id), sessionId: String(r.session_id), recordingId: String(r.recording_id),
  agentId: String(r.agent_id), agentName: String(r.agent_name), startedAt: Number(r.started_ms),
  durationMs: Number(r.duration_ms), bytes: Number(r.bytes), mimeType: String(r.mime_type), complete: Number(r.complete) === 1,
});

/** The public shape (no project id). */
export function publicRecording(r: StoredCallRecording): CallRecording {
  const { projectId: _projectId, ...rest } = r;
  return rest;
}

export function createRecordings(driver: Driver, db: string) {
  let lastVersion = 0;
  // Microseconds of wall time, bumped within one microsecond: a later write always wins.
  const version = () => (lastVersion = Math.max(lastVersion + 1, Date.now() * 1000));

  return {
    async saveCallRecording(r: StoredCallRecording): Promise<void> {
      await driver.insert(`${db}.call_recordings`, [{
        project_id: r.projectId, session_id: r.sessionId, recording_id: r.recordingId, agent_id: r.agentId,
        agent_name: r.agentName, started_at: chTime(r.startedAt), duration_ms: Math.max(0, Math.round(r.durationMs)),
        bytes: r.bytes, mime_type: r.mimeType, complete: r.complete ? 1 : 0, received_at: chTime(Date.now()), version: version(),
      }]);
    },

    async getCallRecording(projectId: string, recordingId: string): Promise<StoredCallRecording | null> {
      const rows = await driver.query<Raw>(
        `SELECT ${COLUMNS} FROM ${db}.call_recordings FINAL WHERE project_id = {p:String} AND recording_id = {r:String} LIMIT 1`,
        { p: projectId, r: recordingId });
      return rows[0] ? toRecording(rows[0]) : null;
    },

    async listCallRecordings(projectId: string, sessionId: string): Promise<StoredCallRecording[]> {
      const rows = await driver.query<Raw>(
        `SELECT ${COLUMNS} FROM ${db}.call_recordings FINAL WHERE project_id = {p:String} AND session_id = {s:String}
         ORDER BY started_at, recording_id`,
        { p: projectId, s: sessionId });
      return rows.map(toRecording);
    },
  };
}
