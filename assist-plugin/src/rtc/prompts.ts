import { ASSIST_FEATURES, ASSIST_REQUEST_TIMEOUT_MS, type AssistState, type PendingRequest } from '@tandem/protocol';
import type { RtcContext } from '../rtc-api.js';
import { RTC_ATTR, h } from './ui-kit.js';

/**
 * The user's prompts for `assist:request` (R1: nothing starts before the user accepts). One prompt
 * shows at a time, the oldest first, naming the agent; Accept/Decline answer with `assist:answer`.
 * A request the server no longer lists (timed out, withdrawn, answered in another tab) goes away.
 */

/** A prompt the server forgot without telling us goes after its timeout plus this (clock skew, slow links). */
const LOCAL_EXPIRY_SLACK_MS = 5_000;

interface Entry {
  req: PendingRequest;
  text: string;
  timer: ReturnType<typeof setTimeout>;
}

export class Prompts {
  private readonly queue: Entry[] = [];
  private box: HTMLElement | null = null;
  private unmount: (() => void) | null = null;
  private shownId: string | null = null;

  constructor(private readonly ctx: RtcContext) {}

  /** Shows a request (ignores malformed ones and repeats). */
  ask(req: PendingRequest, text: string): void {
    if (!req || typeof req.requestId !== 'string' || !ASSIST_FEATURES.includes(req.feature)) return;
    if (this.queue.some((e) => e.req.requestId === req.requestId)) return;
    const timer = setTimeout(
      this.ctx.wrap('prompt expiry', () => this.drop(req.requestId)),
      ASSIST_REQUEST_TIMEOUT_MS + LOCAL_EXPIRY_SLACK_MS,
    );
    this.queue.push({ req, text, timer });
    this.render();
  }

  /** Drops the prompts of requests the server no longer lists (R3). */
  sync(state: AssistState): void {
    const live = new Set((state.pending ?? []).map((p) => p.requestId));
    for (const e of this.queue.slice()) if (!live.has(e.req.requestId)) this.drop(e.req.requestId);
  }

  answer(requestId: string, accepted: boolean): void {
    if (!this.queue.some((e) => e.req.requestId === requestId)) return;
    this.ctx.send('assist:answer', { requestId, accepted });
    this.drop(requestId);
  }

  features(): string[] {
    return this.queue.map((e) => e.req.feature);
  }

  dispose(): void {
    for (const e of this.queue.splice(0)) clearTimeout(e.timer);
    this.unmount?.();
    this.unmount = null;
    this.box = null;
    this.shownId = null;
  }

  private drop(requestId: string): void {
    const i = this.queue.findIndex((e) => e.req.requestId === requestId);
    if (i < 0) return;
    clearTimeout(this.queue[i]!.timer);
    this.queue.splice(i, 1);
    this.render();
  }

  private render(): void {
    const first = this.queue[0];
    if (!first) {
      this.unmount?.();
      this.unmount = null;
      this.box = null;
      this.shownId = null;
      return;
    }
    if (this.shownId === first.req.requestId) return;
    this.unmount?.();
    const doc = this.ctx.doc;
    const id = `tandem-request-${first.req.requestId.replace(/[^\w-]/g, '').slice(0, 40)}`;
    const decline = h(doc, 'button', { type: 'button', class: 'secondary', [RTC_ATTR.decline]: '' }, 'Decline');
    const accept = h(doc, 'button', { type: 'button', [RTC_ATTR.accept]: '' }, 'Accept');
    const requestId = first.req.requestId;
    decline.addEventListener('click', this.ctx.wrap('request decline', () => this.answer(requestId, false)));
    accept.addEventListener('click', this.ctx.wrap('request accept', () => this.answer(requestId, true)));
    const box = h(
      doc,
      'div',
      { class: 'box consent request', role: 'alertdialog', 'aria-modal': 'false', 'aria-labelledby': id, [RTC_ATTR.request]: first.req.feature },
      h(doc, 'span', { class: 'text', id }, first.text),
      h(doc, 'span', { class: 'actions' }, decline, accept),
    );
    // Escape declines, as it closes any dialog; nothing is granted by a stray key.
    box.addEventListener(
      'keydown',
      this.ctx.wrap('request key', (e: KeyboardEvent) => {
        if (e.key === 'Escape') this.answer(requestId, false);
      }),
    );
    this.box = box;
    this.shownId = requestId;
    this.unmount = this.ctx.ui.mount(box);
  }
}
