import type { LiveRegistry } from './registry.js';
import { parseOffset, parsePage } from './schemas.js';
import type { AssistSocket, TabPeer } from './types.js';

/**
 * A tab's messages for its live room, handled alike whether its socket is on this node (attach.ts) or
 * on another one that forwards them to the session's home (cluster-tabs.ts). A payload that does not
 * parse is dropped, as it always was.
 */
export const TAB_ROOM_EVENTS = ['tab:page', 'live:events', 'user:stop', 'tab:leave', 'consent:answer', 'clock:offset'] as const;
export type TabRoomEvent = (typeof TAB_ROOM_EVENTS)[number];

const ROOM_EVENTS: ReadonlySet<string> = new Set(TAB_ROOM_EVENTS);
export const isTabRoomEvent = (event: string): event is TabRoomEvent => ROOM_EVENTS.has(event);

/** Hands one of a tab's room messages to the registry (`packetBytes`: the socket.io packet's size, when known). */
export function tabMessageToRegistry(registry: LiveRegistry, id: string, event: TabRoomEvent, msg: unknown, packetBytes = 0): void {
  switch (event) {
    case 'live:events':
      return registry.tabEvents(id, msg, packetBytes);
    case 'tab:page': {
      const page = parsePage(msg);
      if (page) registry.tabPage(id, page);
      return;
    }
    case 'clock:offset': {
      const offset = parseOffset(msg);
      if (offset !== null) registry.tabClockOffset(id, offset);
      return;
    }
    case 'consent:answer': {
      const answer = msg as { accepted?: unknown } | undefined;
      if (typeof answer?.accepted === 'boolean') registry.consentAnswer(id, answer.accepted);
      return;
    }
    case 'user:stop':
      return registry.userStop(id);
    case 'tab:leave':
      return registry.tabLeft(id);
  }
}

/** A tab socket of this node, as the registry sees it. */
export function localTabPeer(socket: AssistSocket): TabPeer {
  return {
    id: socket.id,
    emit: (event, ...args) => (socket.emit as (ev: string, ...a: unknown[]) => boolean).call(socket, event as string, ...args),
    disconnect: () => socket.disconnect(true),
  };
}
