import type { TandemEvent } from '@tandem/protocol';
import type { Guard } from './safe.js';

export type BusListener = (e: TandemEvent) => void;

/**
 * Every event the tracker emits, after it has its seq, in seq order. Plugins (live assist) tap it.
 * A listener that throws is reported and skipped: it must not stop recording or other listeners.
 */
export class EventBus {
  private readonly listeners = new Set<BusListener>();

  constructor(private readonly guard: Guard) {}

  subscribe(fn: BusListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  publish(e: TandemEvent): void {
    // Iterating a Set while a listener unsubscribes (itself or another) is well defined in JS.
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch (err) {
        this.guard.report(err, 'bus listener');
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
