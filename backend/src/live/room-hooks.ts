import type { LiveRoom, Member, TabRoom } from './rooms.js';

/**
 * What the registry tells the assist features (calls, control, annotations, canvas video) about room
 * changes. The registry owns who is where; the assist side keeps its own state per room and reacts
 * here, so neither file has to know the other's internals. Every hook runs synchronously, after the
 * registry's own state is updated.
 */
export interface RoomHooks {
  /** A tab socket attached (a new tab, or the same tabId back on a new socket after a reload). */
  tabAttached(tab: TabRoom): void;
  /** A tab's grace period ended without it coming back (the room may live on with other tabs). */
  tabRemoved(tab: TabRoom): void;
  /** An agent socket joined the session (or joined again: the view was reopened). */
  memberJoined(member: Member): void;
  /** An agent socket left the session (leave, disconnect, link expiry, dismissed by the user). */
  memberLeft(member: Member): void;
  /** Who watches `tab`, or whether it forwards, may have changed. */
  watchersChanged(tab: TabRoom): void;
  /** Just before `live:start` goes to the tab. */
  beforeStart(tab: TabRoom): void;
  /** The session is gone (its last tab left); members are detached right after. */
  roomEnded(room: LiveRoom): void;
}
