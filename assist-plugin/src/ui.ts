import type { AgentPresence } from '@tandem/protocol';

/**
 * The banner ("Alice is viewing this page" + Stop) and the consent prompt. Both live in one OPEN
 * shadow root on a `<tandem-assist>` host element that the recorder blocks (class `rr-block`, rrweb's
 * default blockClass, and `data-tandem-block`, in the tracker's blockSelector): the recording and
 * the agent's live view get an empty placeholder, never the banner's content. The host is fixed
 * and out of flow (no effect on the page's layout), its own styles are set through CSSOM with
 * `!important` (page CSS cannot hide or move it, and a CSP without 'unsafe-inline' does not block
 * them), and the shadow root isolates the inner styles in both directions.
 */

export const HOST_TAG = 'tandem-assist';
export const HOST_CLASS = 'rr-block';
export const HOST_BLOCK_ATTRIBUTE = 'data-tandem-block';
export const ATTR = {
  banner: 'data-tandem-banner',
  stop: 'data-tandem-stop',
  consent: 'data-tandem-consent',
  accept: 'data-tandem-consent-accept',
  decline: 'data-tandem-consent-decline',
} as const;

/** "Alice", "Alice and Bob", "Alice, Bob and Carol". */
export function formatNames(names: readonly string[]): string {
  const n = names.map((s) => String(s ?? '').trim() || 'Someone');
  if (n.length === 0) return 'Someone';
  if (n.length === 1) return n[0];
  return `${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
}

/** Distinct names, in order (one agent on two devices is one name). */
export function agentNames(agents: readonly AgentPresence[]): string[] {
  const out: string[] = [];
  for (const a of agents) {
    const name = String(a?.name ?? '').slice(0, 80);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export function bannerText(agents: readonly AgentPresence[]): string {
  const names = agentNames(agents);
  return `${formatNames(names)} ${names.length > 1 ? 'are' : 'is'} viewing this page`;
}

export function consentText(agents: readonly AgentPresence[]): string {
  return `${formatNames(agentNames(agents))} from support would like to see this page`;
}

const CSS = `
:host { all: initial; }
.box {
  box-sizing: border-box; display: flex; align-items: center; gap: 12px; max-width: min(420px, calc(100vw - 32px));
  padding: 10px 12px 10px 14px; border-radius: 10px; background: #111827; color: #f9fafb;
  font: 500 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; letter-spacing: normal;
  box-shadow: 0 6px 24px rgba(0,0,0,.28); border: 1px solid rgba(255,255,255,.12); text-align: left;
  direction: ltr; pointer-events: auto; margin-top: 8px;
}
.box[hidden] { display: none; }
.dot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: #ef4444; box-shadow: 0 0 0 3px rgba(239,68,68,.25); }
.text { flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere; }
.consent { flex-wrap: wrap; }
.consent .text { flex-basis: 100%; }
.actions { display: flex; gap: 8px; margin-left: auto; }
button {
  all: unset; box-sizing: border-box; cursor: pointer; padding: 6px 12px; border-radius: 7px; font: inherit; font-weight: 600;
  background: #f9fafb; color: #111827; white-space: nowrap;
}
button.secondary { background: transparent; color: #f9fafb; box-shadow: inset 0 0 0 1px rgba(255,255,255,.45); }
button:hover { filter: brightness(.92); }
button:focus-visible { outline: 2px solid #60a5fa; outline-offset: 2px; }
`;

/** Host element styles, set one by one with priority important (CSSOM: not subject to CSP). */
const HOST_STYLE: [string, string][] = [
  ['all', 'initial'],
  ['position', 'fixed'],
  ['right', '16px'],
  ['bottom', '16px'],
  ['z-index', '2147483647'],
  ['display', 'block'],
  ['width', 'auto'],
  ['height', 'auto'],
  ['margin', '0'],
  ['padding', '0'],
  ['border', '0'],
  ['transform', 'none'],
  ['pointer-events', 'none'],
  ['visibility', 'visible'],
  ['opacity', '1'],
];

export interface AssistUiHandlers {
  onStop(): void;
  onConsent(accepted: boolean): void;
}

export interface AssistUi {
  /** Shows the banner naming these agents (hides it when empty). */
  setBanner(agents: readonly AgentPresence[] | null): void;
  /** Shows the consent prompt for these agents; null hides it. */
  setConsent(agents: readonly AgentPresence[] | null): void;
  readonly bannerVisible: boolean;
  readonly consentVisible: boolean;
  /** The host element while it is in the page. */
  readonly host: HTMLElement | null;
  /** Appends an element of the WebRTC chunk (call panel, control banner, overlay...) to the shadow root; returns its removal. */
  mount(el: HTMLElement): () => void;
  /** Adds a stylesheet to the shadow root, once per id. */
  addStyles(id: string, css: string): void;
  destroy(): void;
}

/** Creates the UI lazily: nothing is added to the page until something has to be shown. */
export function createUi(doc: Document, handlers: AssistUiHandlers, wrap: <F extends (...a: never[]) => unknown>(where: string, fn: F) => F): AssistUi {
  let host: HTMLElement | null = null;
  let banner: HTMLElement | null = null;
  let bannerTextEl: HTMLElement | null = null;
  let consent: HTMLElement | null = null;
  let consentTextEl: HTMLElement | null = null;
  let root: ShadowRoot | null = null;
  /**
   * Everything shown lives in this container, never directly in the shadow root: rrweb observes an
   * open shadow root even under a blocked host (it attaches its mutation observer when it serializes
   * the host) and would record nodes added to the root itself. Added under a container the recorder
   * never serialized (it is inside the blocked host) and that is itself blocked, they are dropped.
   */
  let container: HTMLElement | null = null;
  let bannerOn = false;
  let consentOn = false;
  /** Elements mounted by the WebRTC chunk: the host stays while any is. */
  const layers = new Set<HTMLElement>();
  const sheets = new Set<string>();

  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string) => {
    const e = doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const ensure = () => {
    if (host && host.isConnected) return;
    if (!host) {
      host = doc.createElement(HOST_TAG);
      host.className = HOST_CLASS;
      host.setAttribute(HOST_BLOCK_ATTRIBUTE, '');
      for (const [k, v] of HOST_STYLE) host.style.setProperty(k, v, 'important');
      root = host.attachShadow({ mode: 'open' });
      container = el('div', { class: HOST_CLASS, [HOST_BLOCK_ATTRIBUTE]: '' });
      root.appendChild(container);
      addSheet(CSS);

      banner = el('div', { class: 'box banner', role: 'status', 'aria-live': 'polite', [ATTR.banner]: '' });
      banner.hidden = true;
      banner.appendChild(el('span', { class: 'dot', 'aria-hidden': 'true' }));
      bannerTextEl = el('span', { class: 'text' });
      banner.appendChild(bannerTextEl);
      const stop = el('button', { type: 'button', [ATTR.stop]: '', 'aria-label': 'Stop sharing this page with support' }, 'Stop');
      stop.addEventListener('click', wrap('banner stop', () => handlers.onStop()));
      banner.appendChild(stop);

      consent = el('div', { class: 'box consent', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'tandem-consent-text', [ATTR.consent]: '' });
      consent.hidden = true;
      consentTextEl = el('span', { class: 'text', id: 'tandem-consent-text', 'aria-live': 'assertive' });
      consent.appendChild(consentTextEl);
      const actions = el('span', { class: 'actions' });
      const decline = el('button', { type: 'button', class: 'secondary', [ATTR.decline]: '', 'aria-label': 'Decline: do not share this page' }, 'Decline');
      const accept = el('button', { type: 'button', [ATTR.accept]: '', 'aria-label': 'Allow support to see this page' }, 'Allow');
      decline.addEventListener('click', wrap('consent decline', () => handlers.onConsent(false)));
      accept.addEventListener('click', wrap('consent accept', () => handlers.onConsent(true)));
      actions.append(decline, accept);
      consent.appendChild(actions);

      for (const layer of layers) container.appendChild(layer);
    }
    // <html> rather than <body>: frameworks that own <body> (hydration) never meet it.
    (doc.documentElement || doc.body)?.appendChild(host);
  };

  /** An adopted stylesheet (CSP-proof), or a `<style>` element where that is not supported. */
  const addSheet = (css: string) => {
    const win = doc.defaultView as (Window & typeof globalThis) | null;
    try {
      if (win && 'adoptedStyleSheets' in root! && typeof win.CSSStyleSheet === 'function') {
        const sheet = new win.CSSStyleSheet();
        sheet.replaceSync(css);
        root!.adoptedStyleSheets = [...root!.adoptedStyleSheets, sheet];
        return;
      }
    } catch {
      /* fall through to a <style> element */
    }
    container!.appendChild(el('style', {}, css));
  };

  /** Takes the host out of the page when nothing is shown (the page's DOM is as it was). */
  const settle = () => {
    if (!bannerOn && !consentOn && !layers.size && host?.isConnected) host.remove();
  };

  return {
    setBanner(agents) {
      bannerOn = !!agents && agents.length > 0;
      if (bannerOn) {
        ensure();
        bannerTextEl!.textContent = bannerText(agents!);
        banner!.hidden = false;
        // Only what shows is in the shadow root: a test (or a screen reader) never meets a hidden
        // prompt's buttons next to a visible one's.
        if (!banner!.isConnected) consent!.isConnected ? consent!.after(banner!) : container!.prepend(banner!);
      } else if (banner) {
        banner.hidden = true;
        banner.remove();
      }
      settle();
    },
    setConsent(agents) {
      consentOn = !!agents;
      if (consentOn) {
        ensure();
        consentTextEl!.textContent = consentText(agents!);
        consent!.hidden = false;
        if (!consent!.isConnected) container!.prepend(consent!);
      } else if (consent) {
        consent.hidden = true;
        consent.remove();
      }
      settle();
    },
    get bannerVisible() {
      return bannerOn;
    },
    get consentVisible() {
      return consentOn;
    },
    get host() {
      return host?.isConnected ? host : null;
    },
    mount(layer) {
      layers.add(layer);
      ensure();
      container!.appendChild(layer);
      return () => {
        layers.delete(layer);
        layer.remove();
        settle();
      };
    },
    addStyles(id, css) {
      ensure();
      if (sheets.has(id)) return;
      sheets.add(id);
      addSheet(css);
    },
    destroy() {
      bannerOn = consentOn = false;
      layers.clear();
      host?.remove();
    },
  };
}
