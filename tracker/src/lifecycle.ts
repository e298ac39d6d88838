import type { Guard } from './safe.js';

export interface LifecycleHandlers {
  /** The page is going away or out of sight (pagehide, visibilitychange to hidden). */
  hide(): void;
  /** The browser says it is online again. */
  online(): void;
  /** The page came back from the back/forward cache with its memory as it was. */
  restored(): void;
}

/** Listens to the page's lifecycle events (each handler guarded); returns the uninstaller. */
export function installLifecycle(guard: Guard, on: LifecycleHandlers): () => void {
  const onHide = guard.wrap('pagehide', () => on.hide());
  const onVisibility = guard.wrap('visibility', () => {
    if (document.visibilityState === 'hidden') on.hide();
  });
  const onOnline = guard.wrap('online', () => on.online());
  const onShow = guard.wrap('pageshow', (e: PageTransitionEvent) => {
    if (e.persisted) on.restored();
  });
  window.addEventListener('pageshow', onShow as EventListener);
  window.addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('online', onOnline);
  return () => {
    window.removeEventListener('pagehide', onHide);
    window.removeEventListener('pageshow', onShow as EventListener);
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('online', onOnline);
  };
}
