import { MAX_STROKE_POINTS, type AnnotationStroke } from '@tandem/protocol';

/**
 * Cuts a stroke being drawn into pieces to send while the pen moves (signal.ts `AnnotationStroke`):
 * the user sees the line grow instead of appearing at the end. A piece goes out when `FLUSH_MS` passed
 * since the last one or it holds `PIECE_POINTS` points, and at pen-up with `done: true`. Each piece
 * after the first starts with the previous piece's last point, so the pieces join without a gap.
 */

/** ~20 pieces a second: smooth on the user's side, few socket messages. */
export const FLUSH_MS = 50;
/** Points per piece (each 2 numbers); well under MAX_STROKE_POINTS numbers so the server never refuses one. */
export const PIECE_POINTS = 200;
/** Points closer than this (user px) to the previous one add nothing visible. */
const MIN_STEP_PX = 1;

export interface StrokeStyle {
  color: string;
  width: number;
}

export class StrokeChunker {
  readonly id: string;
  readonly style: StrokeStyle;
  #pending: number[] = [];
  #last: [number, number] | null = null;
  #lastFlushAt: number;
  #sentAny = false;
  #done = false;

  constructor(id: string, style: StrokeStyle, now: number) {
    this.id = id;
    this.style = style;
    this.#lastFlushAt = now;
  }

  /** Adds a point; returns a piece when one is due. */
  add(x: number, y: number, now: number): AnnotationStroke | null {
    if (this.#done) return null;
    const last = this.#last;
    if (last && Math.abs(last[0] - x) < MIN_STEP_PX && Math.abs(last[1] - y) < MIN_STEP_PX) return null;
    if (this.#pending.length === 0 && last) this.#pending.push(last[0], last[1]);
    this.#pending.push(x, y);
    this.#last = [x, y];
    if (this.#pending.length / 2 >= PIECE_POINTS || now - this.#lastFlushAt >= FLUSH_MS) return this.#flush(false, now);
    return null;
  }

  /** The pen was lifted: the last piece, `done: true` (possibly with no new points). */
  end(now: number): AnnotationStroke {
    this.#done = true;
    const first = !this.#sentAny;
    const piece = this.#flush(true, now);
    if (first && piece.points.length === 2) {
      // A tap: a dot is a stroke from the point to itself.
      piece.points.push(piece.points[0], piece.points[1]);
    }
    return piece;
  }

  #flush(done: boolean, now: number): AnnotationStroke {
    const points = this.#pending.slice(0, MAX_STROKE_POINTS);
    this.#pending = [];
    this.#lastFlushAt = now;
    const piece: AnnotationStroke = { id: this.id, points, color: this.style.color, width: this.style.width, done };
    if (points.length) this.#sentAny = true;
    return piece;
  }
}
