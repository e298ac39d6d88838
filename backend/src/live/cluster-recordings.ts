import type { Logger } from 'pino';
import { TandemError, type ErrorCode, type RecordingState } from '@tandem/protocol';
import type { AssistDirectory, RecordingCall } from '../context.js';
import type { AssistHub } from './assist-hub.js';
import type { NodeBus } from './cluster-bus.js';
import type { LiveState } from './state/live-state.js';
import type { AssistNamespace } from './types.js';

/**
 * Call recording grants across nodes (issue 9). The user's consent to record lives in the room, at the
 * session's home; the agent's HTTP requests (start, chunks, finish) reach whatever node the balancer
 * picks. So the node that takes a start asks the home whether this agent holds the grant, tells the
 * home the recording's id (everyone's `assist:state` shows it), both on the home's own channel
 * (cluster-bus.ts), and every node hears when a grant ends (the node holding the upload closes it after the tail).
 *
 * Where the bytes go: the node that takes the start keeps the upload (in memory) and appends the
 * chunks to its `<TANDEM_DATA_DIR>/recordings`; the metadata is in the shared ClickHouse. It notes in
 * Redis that it holds the upload, so a chunk or finish the balancer sends to another node is forwarded
 * to it on its own channel (any balancer works, sticky or not); any node serves the media only if
 * `recordings/` is one shared volume (docs/deploy.md).
 */

export interface RecordingInterServerEvents {
  'live:rec-ended': (recordingId: string) => void;
}

type Untyped = {
  on(ev: string, fn: (...a: any[]) => void): void;
  serverSideEmit(ev: string, ...a: unknown[]): void;
};
type GrantAsk = { projectId: string; sessionId: string; agent: { id: string; via: string } };
type Started = { projectId: string; sessionId: string; recordingId: string };
/** A forwarded call's answer: TandemErrors cross nodes as their code and message. */
type Answer = { ok: true; v: unknown } | { ok: false; error: { code: ErrorCode; message: string } };

export function clusterRecordings(deps: {
  nsp: AssistNamespace;
  bus: NodeBus;
  state: LiveState;
  assist: AssistHub;
  log: Logger;
}): AssistDirectory {
  const { assist, state } = deps;
  const nsp = deps.nsp as unknown as Untyped;
  const node = state.nodeId;
  const listeners: ((recordingId: string) => void)[] = [];

  const { bus } = deps;
  bus.on('live:rec-grant', (m: GrantAsk, reply) => reply?.(assist.recordingGrant(m.projectId, m.sessionId, m.agent)));
  bus.on('live:rec-started', (m: Started, reply) => {
    assist.recordingStarted(m.projectId, m.sessionId, m.recordingId);
    reply?.(true);
  });
  let serve: ((call: RecordingCall) => Promise<unknown>) | null = null;
  bus.on('live:rec-call', (m: RecordingCall, reply) => {
    if (!serve) return reply?.({ ok: false, error: { code: 'unavailable', message: 'This node is not ready for recordings' } } satisfies Answer);
    serve(m).then((v) => reply?.({ ok: true, v } satisfies Answer), (err: unknown) => {
      if (!(err instanceof TandemError)) deps.log.warn({ err, recordingId: m.recordingId }, 'recordings: a forwarded call failed');
      const error = err instanceof TandemError ? { code: err.code, message: err.message } : { code: 'internal' as const, message: 'Internal server error' };
      reply?.({ ok: false, error } satisfies Answer);
    });
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
      // null when the home does not answer (bus.request logs it).
      return bus.request<RecordingState>(home, 'live:rec-grant', { projectId, sessionId, agent } satisfies GrantAsk);
    },
    async recordingStarted(projectId, sessionId, recordingId) {
      // This node took the start: it holds the upload (before the agent hears the id and sends a chunk).
      await state.holdRecording(recordingId);
      const home = await homeElsewhere(projectId, sessionId);
      if (!home) return assist.recordingStarted(projectId, sessionId, recordingId);
      // Answered once the home has it: the caller reads the grant again right after.
      await bus.request(home, 'live:rec-started', { projectId, sessionId, recordingId } satisfies Started);
    },
    onRecordingEnded(listener) {
      listeners.push(listener);
    },
    async forwardRecording(recordingId, call) {
      const holder = await state.recordingHolder(recordingId);
      if (!holder || holder === node) return null;
      const answer = await bus.request<Answer>(holder, 'live:rec-call', call);
      if (!answer) throw new TandemError('unavailable', 'The server holding this recording did not answer; try again');
      if (!answer.ok) throw new TandemError(answer.error.code, answer.error.message);
      return answer.v;
    },
    serveRecordings(handler) {
      serve = handler;
    },
  };
}
