/**
 * Runs `fn` at most once per `intervalMs`, always on the trailing edge: what it sends is computed when
 * it runs, so the last state always arrives however many changes were coalesced. An urgent schedule
 * runs sooner: on the next tick, or `urgentIntervalMs` after the last run if that is later (so a
 * client sending changes in a loop cannot make it run more often than that).
 */
export class Throttle {
  private timer: NodeJS.Timeout | undefined;
  private timerUrgent = false;
  private lastRun = 0;

  constructor(private readonly intervalMs: number, private readonly fn: () => void, private readonly urgentIntervalMs = 0) {}

  schedule(urgent = false): void {
    if (this.timer) {
      if (!urgent || this.timerUrgent) return;
      clearTimeout(this.timer);
    }
    const delay = Math.max(0, this.lastRun + (urgent ? this.urgentIntervalMs : this.intervalMs) - Date.now());
    this.timerUrgent = urgent;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRun = Date.now();
      this.fn();
    }, delay);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
