import type { AnnotationStroke, PeerId } from '@tandem/protocol';
import type { AssistContext, AssistModule } from './module';
import { holds } from './status';
import { StrokeChunker, type StrokeStyle } from './strokes';

/**
 * Annotations (agent side). Once `assist:state.annotate` lists this agent (its own consent, or
 * control, which covers drawing), the agent switches drawing on and draws over the live view
 * (AnnotateLayer.svelte); strokes go out in pieces while drawn (strokes.ts) in the user's viewport px.
 */
export class AnnotateModule implements AssistModule {
  readonly name = 'annotate' as const;
  /** Granted by the user (or through control). */
  allowed = $state(false);
  /** The agent's drawing mode (only while allowed). */
  drawing = $state(false);
  style = $state<StrokeStyle>({ color: '#e11d48', width: 4 });
  /** Strokes sent (finished), a read-out for tests. */
  strokes = $state(0);

  #ctx: AssistContext;
  #current: StrokeChunker | null = null;
  #counter = 0;

  constructor(ctx: AssistContext) {
    this.#ctx = ctx;
  }

  update(state: Parameters<AssistModule['update']>[0], self: PeerId | null): void {
    this.allowed = holds(state, 'annotate', self);
    if (!this.allowed) {
      this.drawing = false;
      this.#current = null;
    }
  }

  setDrawing(on: boolean): void {
    this.drawing = on && this.allowed;
  }

  begin(x: number, y: number, now = performance.now()): void {
    if (!this.drawing) return;
    // The server accepts 1-64 of [A-Za-z0-9_-] (signal.ts): the peer id's ':' is not one of them.
    const self = (this.#ctx.self() ?? 'agent').replace(/[^A-Za-z0-9_-]/g, '-');
    this.#current = new StrokeChunker(`${self}-${Date.now().toString(36)}-${++this.#counter}`.slice(-64), { ...this.style }, now);
    this.#emit(this.#current.add(x, y, now));
  }

  move(x: number, y: number, now = performance.now()): void {
    if (this.#current) this.#emit(this.#current.add(x, y, now));
  }

  end(now = performance.now()): void {
    const current = this.#current;
    if (!current) return;
    this.#current = null;
    this.#emit(current.end(now));
    this.strokes++;
  }

  #emit(piece: AnnotationStroke | null): void {
    if (!piece || !this.allowed) return;
    if (!piece.points.length && !piece.done) return;
    this.#ctx.socket.emit('annotate:stroke', { sessionId: this.#ctx.sessionId, stroke: piece });
  }

  /** Stop drawing for good (the user keeps what was drawn until it fades). */
  stop(): void {
    this.#ctx.socket.emit('assist:end', { sessionId: this.#ctx.sessionId, feature: 'annotate' });
    this.drawing = false;
  }

  destroy(): void {
    this.drawing = false;
  }
}
