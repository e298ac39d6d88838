/**
 * DOM helpers and the stylesheet of the WebRTC chunk's UI. Everything is mounted in the plugin's
 * open shadow root (ui.ts): isolated from the page's CSS both ways, and inside the `rr-block` host,
 * so neither recordings nor live views ever contain it.
 */

/** Test hooks (stable; e2e tests and integrators' QA select on them). */
export const RTC_ATTR = {
  request: 'data-tandem-request',
  accept: 'data-tandem-consent-accept',
  decline: 'data-tandem-consent-decline',
  call: 'data-tandem-call',
  mute: 'data-tandem-mute',
  camera: 'data-tandem-camera',
  hangup: 'data-tandem-hangup',
  control: 'data-tandem-control',
  controlStop: 'data-tandem-control-stop',
  pointer: 'data-tandem-pointer',
  annotations: 'data-tandem-annotations',
  recording: 'data-tandem-recording',
  recordingStop: 'data-tandem-recording-stop',
} as const;

export function h<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

/** The chunk's own rules, added next to ui.ts's (`.box`, buttons). */
export const RTC_CSS = `
.box { position: relative; z-index: 2; }
.request .text { flex-basis: 100%; }
.request .actions button[${RTC_ATTR.accept}] { background: #22c55e; color: #052e16; }
.control .dot { background: #f59e0b; box-shadow: 0 0 0 3px rgba(245,158,11,.3); }
.rec .dot { animation: tandem-blink 1.2s steps(2, start) infinite; }
@keyframes tandem-blink { to { visibility: hidden; } }
@media (prefers-reduced-motion: reduce) { .rec .dot { animation: none; } }
.call {
  position: fixed; z-index: 3; left: 16px; bottom: 16px; width: 248px; box-sizing: border-box; pointer-events: auto;
  background: #111827; color: #f9fafb; border-radius: 12px; border: 1px solid rgba(255,255,255,.14);
  box-shadow: 0 8px 28px rgba(0,0,0,.32); font: 500 12px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  overflow: hidden; text-align: left; direction: ltr;
}
.call .bar { display: flex; align-items: center; gap: 8px; padding: 6px 8px; }
.call .handle {
  flex: 1 1 auto; min-width: 0; cursor: move; user-select: none; touch-action: none; padding: 4px 6px; border-radius: 6px;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.call .handle:focus-visible { outline: 2px solid #60a5fa; }
.call .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 4px; padding: 0 6px; }
.call .grid:empty { display: none; }
.call .tile { position: relative; aspect-ratio: 4 / 3; background: #1f2937; border-radius: 6px; overflow: hidden; }
.call .tile.solo { grid-column: 1 / -1; }
.call video { width: 100%; height: 100%; object-fit: cover; display: block; }
.call .tile .name { position: absolute; left: 4px; bottom: 3px; padding: 1px 5px; border-radius: 4px; background: rgba(0,0,0,.55); font-size: 11px; }
.call .tile .avatar { position: absolute; inset: 0; display: grid; place-items: center; font-size: 22px; font-weight: 700; color: #9ca3af; }
.call .tile .avatar[hidden] { display: none; }
.call .self { position: absolute; right: 6px; top: 38px; width: 64px; aspect-ratio: 4 / 3; border-radius: 5px; overflow: hidden; box-shadow: 0 0 0 1px rgba(255,255,255,.3); background: #000; }
.call .self[hidden] { display: none; }
.call .self video { transform: scaleX(-1); }
.call .controls { display: flex; gap: 6px; padding: 8px; justify-content: center; }
.call .controls button { padding: 6px 10px; font-size: 12px; }
.call .controls button[aria-pressed="true"] { background: #fbbf24; color: #111827; }
.call .controls button[${RTC_ATTR.hangup}] { background: #ef4444; color: #fff; }
.call .status { padding: 0 10px 4px; color: #d1d5db; font-size: 11px; }
.call .status:empty { display: none; }
.overlay { position: fixed; inset: 0; width: 100vw; height: 100vh; pointer-events: none; z-index: 1; }
.overlay .ink { display: block; width: 100%; height: 100%; pointer-events: none; }
.pointer { position: fixed; left: 0; top: 0; z-index: 4; pointer-events: none; will-change: transform; transition: transform 40ms linear; }
.pointer[hidden] { display: none; }
.pointer .label { position: absolute; left: 16px; top: 18px; padding: 1px 6px; border-radius: 4px; background: #f59e0b; color: #111827; font: 600 11px/1.4 system-ui, sans-serif; white-space: nowrap; }
.pointer.press svg { transform: scale(.85); }
`;

/** Initials for an agent without video ("Alice Martin" → "AM"). */
export function initials(name: string): string {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  return (parts.slice(0, 2).map((p) => p[0]!.toUpperCase()).join('') || '?').slice(0, 2);
}

/** The agent's display name, bounded like the banner's. */
export function agentName(agent: { name?: unknown } | null | undefined): string {
  return String(agent?.name ?? '').trim().slice(0, 80) || 'Support';
}
