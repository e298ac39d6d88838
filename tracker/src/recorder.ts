import { record } from '@rrweb/record';
import type { eventWithTime } from '@rrweb/types';
import { TANDEM_EVENT, type CanvasRecording, type TandemCustomEventMap } from '@tandem/protocol';
import { canvasRecordOptions } from './canvas.js';
import { createConsoleCapture, type ConsoleCapture } from './console.js';
import { LIVE_SAMPLING, SAMPLING, type TrackerOptions } from './options.js';
import { buildPrivacyOptions } from './privacy.js';
import type { Guard } from './safe.js';

/** The node mirror a running recording keeps (rrweb's `record.mirror`: node id ↔ node). */
export interface NodeMirror {
  getId(node: Node | null | undefined): number;
  getNode(id: number): Node | null;
}

/**
 * The tracker's one rrweb recording: record() with Tandem's privacy defaults, sampling and console
 * capture, and what a running recording was started with (rrweb reads these only in record(), so a
 * change means a restart, which the tracker decides). Every event goes to `onEvent`.
 */
export class Recorder {
  /** The keyframe interval the running recording was started with. */
  checkoutMs = 0;
  /** The canvas level the running recording was started with. */
  canvas: CanvasRecording = 'off';
  private running = false;
  /** Live viewers want every input event (setLiveSampling); the recording running has it when Active. */
  private liveSampling = false;
  private liveSamplingActive = false;
  private stopRecord: (() => void) | undefined;
  private consoleCapture: ConsoleCapture | null = null;

  constructor(
    private readonly opts: TrackerOptions,
    private readonly guard: Guard,
    private readonly onEvent: (e: eventWithTime) => void,
    private readonly emitCustom: <K extends keyof TandemCustomEventMap>(tag: K, payload: TandemCustomEventMap[K]) => void,
  ) {}

  get recording(): boolean {
    return this.running;
  }

  start(checkoutMs: number, canvasLevel: CanvasRecording): void {
    const privacy = buildPrivacyOptions(this.opts);
    this.consoleCapture =
      this.opts.captureConsole !== false
        ? createConsoleCapture(this.guard, (dropped) => this.emitCustom(TANDEM_EVENT.consoleCapped, { dropped }))
        : null;
    const onEvent = this.guard.wrap('record emit', (e: eventWithTime) => this.onEvent(e));
    this.checkoutMs = checkoutMs;
    this.canvas = canvasLevel;
    const { canvasFps, ...canvas } = canvasRecordOptions(canvasLevel);
    const sampling = this.liveSampling ? { ...LIVE_SAMPLING } : { ...SAMPLING };
    const stop = record({
      emit: onEvent,
      ...privacy,
      checkoutEveryNms: checkoutMs,
      inlineStylesheet: true,
      ...canvas,
      collectFonts: false,
      // Drops scripts, comments and head meta noise: replay never runs them and they cost bytes.
      slimDOMOptions: true,
      sampling: canvasFps ? { ...sampling, canvas: canvasFps } : sampling,
      // @rrweb/record's typings come from the `rrweb` package's own copy of @rrweb/types: same shape.
      plugins: (this.consoleCapture ? [this.consoleCapture.plugin] : []) as never[],
      // rrweb calls this for failures inside its observers; true = handled, do not rethrow into the page.
      errorHandler: (err: unknown) => {
        this.guard.report(err, 'rrweb');
        return true;
      },
    });
    this.stopRecord = stop ?? undefined;
    this.running = !!stop;
    this.liveSamplingActive = this.running && this.liveSampling;
    this.consoleCapture?.installGate();
  }

  stop(): void {
    this.consoleCapture?.uninstall();
    this.consoleCapture = null;
    if (this.stopRecord) this.guard.run('record stop', this.stopRecord);
    this.stopRecord = undefined;
    this.running = false;
  }

  /**
   * Notes whether live viewers want every input event; true when the running recording lacks it and
   * must be restarted to get it (switching off waits for the next restart: see Tracker.setLiveSampling).
   */
  wantLiveSampling(on: boolean): boolean {
    if (this.liveSampling === on) return false;
    this.liveSampling = on;
    return on && this.running && !this.liveSamplingActive;
  }

  takeFullSnapshot(): void {
    if (!this.running) return;
    this.guard.run('snapshot', () => record.takeFullSnapshot(true));
  }

  mirror(): NodeMirror | null {
    return this.running ? record.mirror : null;
  }

  /** Through rrweb (its timestamp and order); false when rrweb cannot take it yet (still waiting for the page's load). */
  addCustomEvent(tag: string, payload: unknown): boolean {
    if (!this.running) return false;
    try {
      record.addCustomEvent(tag, payload);
      return true;
    } catch {
      return false;
    }
  }
}
