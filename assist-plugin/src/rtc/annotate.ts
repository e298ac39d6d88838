import { MAX_STROKE_POINTS, type AnnotationStroke, type AssistAgent } from '@tandem/protocol';
import type { FeatureFactory } from './feature.js';
import { RTC_ATTR, agentName, h } from './ui-kit.js';

/**
 * Annotations: an agent's strokes drawn over the user's page on a transparent overlay (a `<canvas>`
 * in the plugin's shadow root: ignores pointer events, never recorded; there while drawing is allowed
 * or a stroke is still fading, removed after).
 * Only agents in `assist:state.annotate` draw (the server checks; this checks again). A stroke
 * stays while it is being drawn and fades out after the pen is lifted.
 */

/** A finished stroke stays fully visible this long, then fades over FADE_MS: gone ~3 s after the pen lifts. */
export const HOLD_MS = 2_000;
export const FADE_MS = 1_000;
/** A stroke whose pen never lifted (the agent's connection dropped) fades this long after its last piece. */
const STALE_MS = 10_000;
/** Strokes kept at once (the oldest go first): a scribble storm cannot grow memory without bound. */
const MAX_STROKES = 100;
/** Points kept per stroke (pairs): longer strokes keep their newest part. */
const MAX_POINTS_PER_STROKE = MAX_STROKE_POINTS * 4;
const DEFAULT_COLOR = '#f43f5e';

interface Stroke {
  points: number[];
  color: string;
  width: number;
  doneAt: number | null;
  lastAt: number;
}

/** A CSS color we draw with: hex or rgb()/hsl(); anything else gets the default. */
export function strokeColor(c: unknown): string {
  const s = String(c ?? '').trim();
  return /^#[0-9a-f]{3,8}$/i.test(s) || /^(rgb|hsl)a?\([\d\s.,%/]+\)$/i.test(s) ? s : DEFAULT_COLOR;
}

/** 0..1: how visible a stroke is at `now`. */
export function strokeAlpha(doneAt: number | null, lastAt: number, now: number): number {
  const endAt = doneAt ?? lastAt + STALE_MS;
  const t = now - endAt - HOLD_MS;
  return t <= 0 ? 1 : Math.max(0, 1 - t / FADE_MS);
}

export const createAnnotate: FeatureFactory = (ctx) => {
  let allowed: AssistAgent[] = [];
  const strokes = new Map<string, Stroke>();
  let drawn = 0;
  let canvas: HTMLCanvasElement | null = null;
  /** `[data-tandem-annotations]`: the overlay (the drawing canvas inside), present while strokes are. */
  let overlay: HTMLElement | null = null;
  let unmount: (() => void) | null = null;
  let frame = 0;
  const win = ctx.doc.defaultView;
  const now = () => (win?.performance ?? Date).now();

  const onResize = ctx.wrap('annotate resize', () => size());
  const size = () => {
    if (!canvas || !win) return;
    const dpr = win.devicePixelRatio || 1;
    canvas.width = Math.round(win.innerWidth * dpr);
    canvas.height = Math.round(win.innerHeight * dpr);
  };

  const mount = () => {
    if (canvas) return;
    canvas = h(ctx.doc, 'canvas', { class: 'ink' });
    overlay = h(ctx.doc, 'div', { class: 'overlay', [RTC_ATTR.annotations]: '', 'aria-hidden': 'true' }, canvas);
    size();
    win?.addEventListener('resize', onResize);
    unmount = ctx.ui.mount(overlay);
  };

  const unmountAll = () => {
    if (frame && win) win.cancelAnimationFrame(frame);
    frame = 0;
    win?.removeEventListener('resize', onResize);
    unmount?.();
    unmount = null;
    canvas = overlay = null;
  };

  const draw = ctx.wrap('annotate draw', () => {
    frame = 0;
    if (!canvas || !win) return;
    const g = canvas.getContext('2d');
    if (!g) return;
    const dpr = win.devicePixelRatio || 1;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.lineCap = 'round';
    g.lineJoin = 'round';
    const t = now();
    for (const [id, s] of strokes) {
      const alpha = strokeAlpha(s.doneAt, s.lastAt, t);
      if (alpha <= 0) {
        strokes.delete(id);
        continue;
      }
      g.globalAlpha = alpha;
      g.strokeStyle = s.color;
      g.lineWidth = s.width;
      g.beginPath();
      g.moveTo(s.points[0]!, s.points[1]!);
      for (let i = 2; i + 1 < s.points.length; i += 2) g.lineTo(s.points[i]!, s.points[i + 1]!);
      if (s.points.length === 2) g.lineTo(s.points[0]! + 0.1, s.points[1]!); // a dot
      g.stroke();
    }
    overlay?.setAttribute('data-strokes', String(strokes.size));
    if (strokes.size) frame = win.requestAnimationFrame(draw);
    else if (!allowed.length) unmountAll(); // drawing still allowed: the (empty) overlay stays
  });

  const add = (stroke: AnnotationStroke) => {
    if (!stroke || typeof stroke.id !== 'string' || !Array.isArray(stroke.points)) return;
    const pts = stroke.points.slice(0, MAX_STROKE_POINTS * 2).filter((n) => typeof n === 'number' && Number.isFinite(n));
    if (pts.length % 2) pts.pop();
    const t = now();
    let s = strokes.get(stroke.id);
    if (!s) {
      if (!pts.length) return;
      s = { points: [], color: strokeColor(stroke.color), width: Math.min(24, Math.max(1, Number(stroke.width) || 4)), doneAt: null, lastAt: t };
      strokes.set(stroke.id, s);
      while (strokes.size > MAX_STROKES) strokes.delete(strokes.keys().next().value!);
    }
    s.points.push(...pts);
    if (s.points.length > MAX_POINTS_PER_STROKE) s.points.splice(0, s.points.length - MAX_POINTS_PER_STROKE);
    s.lastAt = t;
    if (stroke.done) s.doneAt = t;
    drawn++;
    mount();
    if (!frame && win) frame = win.requestAnimationFrame(draw);
  };

  return {
    name: 'annotate',
    onState(state) {
      allowed = Array.isArray(state.annotate) ? state.annotate : [];
      // The overlay is there while someone may draw (and until the last stroke faded).
      if (allowed.length) mount();
      else if (!strokes.size) unmountAll();
    },
    promptText(req) {
      return `${agentName(req.agent)} would like to draw on this page to show you things (drawings fade after a few seconds)`;
    },
    on: {
      'annotate:stroke': (msg) => {
        if (!allowed.some((a) => a.peerId === msg?.agentPeerId)) return;
        add(msg.stroke);
      },
    },
    summarize(s) {
      s.strokesDrawn = drawn;
      s.strokesVisible = strokes.size;
    },
    dispose() {
      strokes.clear();
      unmountAll();
    },
  };
};
