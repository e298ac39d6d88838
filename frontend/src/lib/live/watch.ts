import type { LiveEndReason } from '@tandem/protocol';

/** A watch link (`/watch/<token>`: live view with a slim header) or an embed (`/embed/<token>`: no chrome). */
export interface WatchRoute {
  mode: 'watch' | 'embed';
  token: string;
}

/** The watch route of a location path, or null for the dashboard. */
export function parseWatchPath(pathname: string): WatchRoute | null {
  const m = /^\/(watch|embed)\/([^/?#]+)\/?$/.exec(pathname);
  if (!m) return null;
  let token: string;
  try {
    token = decodeURIComponent(m[2]);
  } catch {
    return null;
  }
  return token ? { mode: m[1] as WatchRoute['mode'], token } : null;
}

/** What a watch-link holder reads when the link does not open (never the login page). */
export function watchErrorMessage(code: string, serverMessage?: string): { title: string; message: string } {
  switch (code) {
    case 'unauthorized':
      return { title: 'This link cannot be opened', message: 'The watch link has expired or is not valid. Ask for a new link.' };
    case 'forbidden':
      return { title: 'Not allowed', message: 'This watch link does not allow watching this session.' };
    case 'not_found':
      return { title: 'Session not live', message: 'The person you want to watch is not on the site right now. Try again when they are back.' };
    case 'rate_limited':
      return { title: 'Too many attempts', message: 'Please wait a moment and reload the page.' };
    case 'network':
      return { title: 'Cannot reach Tandem', message: 'The Tandem server does not answer. Check your connection and reload the page.' };
    default:
      return { title: 'Something went wrong', message: serverMessage || 'The live view could not be opened. Reload the page to try again.' };
  }
}

/** The friendly words for why a live view ended. */
export function endedMessage(reason: LiveEndReason | string): { title: string; message: string } {
  switch (reason) {
    case 'user_stopped':
      return { title: 'The user stopped the session', message: 'They pressed “Stop” on their screen, so you can no longer see their page.' };
    case 'consent_declined':
      return { title: 'The user declined', message: 'They chose not to share their screen with you.' };
    case 'session_gone':
      return { title: 'The user left', message: 'Every tab of this session closed and did not come back.' };
    case 'link_expired':
      return { title: 'The watch link expired', message: 'This link is no longer valid. Ask for a new one to keep watching.' };
    default:
      return { title: 'The live session ended', message: 'There is nothing more to watch here.' };
  }
}

/** "1h 02m left", "4m 05s left", "expired". */
export function timeLeft(expiresAt: number, now: number): string {
  const s = Math.floor((expiresAt - now) / 1000);
  if (s <= 0) return 'expired';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m left`;
  if (m > 0) return `${m}m ${String(ss).padStart(2, '0')}s left`;
  return `${ss}s left`;
}
