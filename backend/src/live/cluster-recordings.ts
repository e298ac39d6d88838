import type { Logger } from 'pino';
import type { RecordingState } from '@tandem/protocol';
import type { AssistDirectory } from '../context.js';
import type { AssistHub } from './assist-hub.js';
import type { LiveState } from './state/live-state.js';
import type { AssistNamespace } from './types.js';

/**
 * Call recording grants across nodes (issue 9). The user's consent to record lives in the room, at the
 * session's home; the agent's HTTP requests (start, chunks, finish) reach whatever node the balancer
 * picks. So the node that takes a start asks the home whether this agent holds the grant, tells the
 * home the recording's id (everyone's `assist:state` shows it), and every node hears when a grant
 * ends (the node holding the upload closes it after the tail).
 *
 * Where the bytes go: the node that takes the start keeps the upload (in memory) and appends the
 * chunks to its `<TANDEM_DATA_DIR>/recordings`; the metadata is in the shared ClickHouse. So one
 * recording's requests must reach one node (haproxy `balance source`, as docs/deploy.md sets it up),
 * and any node serves the media only if `recordings/` is one shared volume (docs/deploy.md).
 */

export interface RecordingInterServerEvents {
  'live:rec-grant': (m: { to: string; projectId: string; sessionId: string; agent: { id: string; via: string } },
    ack: (r: RecordingState | null) => void) => void;
  'live:rec-started': (m: { to: string; projectId: string; sessionId: string; recordingId: string }, ack: (done: true | null) => void) => void;
  'live:rec-ended': (recordingId: string) => void;
}

type Untyped = {
  on(ev: string, fn: (...a: any[]) => void): void;
  serverSideEmit(ev: string, ...a: unknown[]): void;
  serverSideEmitWithAck(ev: string, m: unknown): Promise<unknown[]>;
};

export function clusterRecordings(deps: {
  nsp: AssistNamespace;
  state: LiveState;
  assist: AssistHub;
  log: Logger;
}): AssistDirectory {
  const { assist, state } = deps;
  const nsp = deps.nsp as unknown as Untyped;
  const node = state.nodeId;
  const listeners: ((recordingId: string) => void)[] = [];

  nsp.on('live:rec-grant', (m: Parameters<RecordingInterServerEvents['live:rec-grant']>[0], ack: (r: RecordingState | null) => void) => {
    // Only the addressed node answers (the others' null is ignored by the asker).
    ack(m.to === node ? assist.recordingGrant(m.projectId, m.sessionId, m.agent) : null);
  });
  nsp.on('live:rec-started', (m: Parameters<RecordingInterServerEvents['live:rec-started']>[0], ack: (done: true | null) => void) => {
    if (m.to !== node) return ack(null);
    assist.recordingStarted(m.projectId, m.sessionId, m.recordingId);
    ack(true);
  });
  nsp.on('live:rec-ended', (recordingId: string) => {
    for (const l of listeners) l(recordingId);
  });
  assist.onRecordingEnded((rec) => {
    for (const l of listeners) l(rec.recordingId);
    if (rec.recordingId) nsp.serverSideEmit('live:rec-ended', rec.recordingId);
  });

  /** The session's home when it is another node (null: this node, or nobody). */
  const homeElsewhere = async (projectId: string, sessionId: string) => {
    const home = await state.homeOf(projectId, sessionId);
    return home && home !== node ? home : null;
  };

  return {
    async recordingGrant(projectId, sessionId, agent) {
      const here = assist.recordingGrant(projectId, sessionId, agent);
      if (here) return here;
      const home = await homeElsewhere(projectId, sessionId);
      if (!home) return null;
      try {
        const replies = await nsp.serverSideEmitWithAck('live:rec-grant', { to: home, projectId, sessionId, agent });
        return (replies.find((r) => r) as RecordingState | undefined) ?? null;
      } catch (err) {
        deps.log.warn({ err }, 'recordings: the home of the session did not answer');
        return null;
      }
    },
    async recordingStarted(projectId, sessionId, recordingId) {
      const home = await homeElsewhere(projectId, sessionId);
      if (!home) return assist.recordingStarted(projectId, sessionId, recordingId);
      // Answered once the home has it: the caller reads the grant again right after.
      await nsp.serverSideEmitWithAck('live:rec-started', { to: home, projectId, sessionId, recordingId })
        .catch((err: unknown) => deps.log.warn({ err }, 'recordings: the home of the session did not answer'));
    },
    onRecordingEnded(listener) {
      listeners.push(listener);
    },
  };
}
