import type { PageVisitPayload } from '@tandem/protocol';
import { redactUrl } from './redact.js';
import type { Guard } from './safe.js';
import { truncate } from './truncate.js';

/**
 * Page visits: the first load, then single-page-app navigations (history.pushState/replaceState,
 * back/forward, hash changes). A visit is recorded only when the URL actually changed, since apps
 * call replaceState to store state, and popstate + hashchange both fire for one back step.
 */

type Via = PageVisitPayload['via'];

export function installPageCapture(guard: Guard, emit: (p: PageVisitPayload) => void, win: Window = window): () => void {
  let lastHref = '';
  const visit = (via: Via, href: string, referrer: string | undefined) => {
    const p: PageVisitPayload = {
      url: truncate(redactUrl(href), 2_000),
      title: truncate(win.document.title || '', 300),
      via,
    };
    if (referrer) p.referrer = truncate(redactUrl(referrer), 2_000);
    emit(p);
  };

  // The URL is taken and compared now, so two quick navigations are two visits. Routers usually
  // set document.title right after pushState, so the visit (and its title) is emitted a tick later.
  const later = (via: Via) => {
    const href = win.location.href;
    if (href === lastHref) return;
    const prev = lastHref;
    lastHref = href;
    setTimeout(guard.wrap('page capture', () => visit(via, href, prev)), 0);
  };

  guard.run('page capture', () => {
    lastHref = win.location.href;
    visit('load', lastHref, win.document.referrer);
  });

  const history = win.history;
  const undo: (() => void)[] = [];
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    if (typeof original !== 'function') continue;
    const patched = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args); // exceptions (SecurityError) stay the page's
      guard.run('page capture', () => later(name));
      return result;
    };
    history[name] = patched;
    undo.push(() => {
      if (history[name] === patched) history[name] = original;
    });
  }
  const onPop = guard.wrap('page capture', () => later('popstate'));
  const onHash = guard.wrap('page capture', () => later('hashchange'));
  win.addEventListener('popstate', onPop);
  win.addEventListener('hashchange', onHash);
  undo.push(() => {
    win.removeEventListener('popstate', onPop);
    win.removeEventListener('hashchange', onHash);
  });
  return () => undo.forEach((u) => guard.run('page uninstall', u));
}
