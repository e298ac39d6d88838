import type { ControlInput, PeerId } from '@tandem/protocol';
import type { Replayer } from '@rrweb/replay';
import type { AssistContext, AssistModule } from './module';
import { holds } from './status';

/**
 * Remote control (agent side). Once `assist:state.control` names this agent, ControlOverlay.svelte lays
 * a transparent layer above the replay (in the dashboard's own document: the replay iframe never runs
 * scripts, control on or off) that turns the agent's pointer, wheel and keys into `control:input`.
 * The server forwards input only from the holder (R2); the plugin checks again.
 */
export class ControlModule implements AssistModule {
  readonly name = 'control' as const;
  active = $state(false);
  /** Inputs sent (a read-out for tests and the toolbar's tooltip). */
  sent = $state(0);
  #ctx: AssistContext;

  constructor(ctx: AssistContext) {
    this.#ctx = ctx;
  }

  update(state: Parameters<AssistModule['update']>[0], self: PeerId | null): void {
    this.active = holds(state, 'control', self);
  }

  send(input: ControlInput): void {
    if (!this.active) return;
    this.#ctx.socket.emit('control:input', { sessionId: this.#ctx.sessionId, input });
    this.sent++;
  }

  /** Gives control back to the user. */
  release(): void {
    this.#ctx.socket.emit('assist:end', { sessionId: this.#ctx.sessionId, feature: 'control' });
  }

  destroy(): void {
    this.active = false;
  }
}

/**
 * The rrweb id of the replayed element at a point of the user's viewport: the plugin finds the same
 * element on the user's page by this id (robust to scaled or differing viewports) and falls back to
 * the coordinates when it is unknown. The replay iframe is `allow-same-origin`, so its document is
 * readable here without running anything in it.
 */
export function nodeIdAt(replayer: Replayer | null, x: number, y: number): number | undefined {
  const doc = replayer?.iframe.contentDocument;
  if (!replayer || !doc) return undefined;
  let el: Element | null = doc.elementFromPoint(x, y);
  // Into open shadow roots, like the user's own click would land.
  while (el?.shadowRoot) {
    const inner = el.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  if (!el) return undefined;
  const id = replayer.getMirror().getId(el as unknown as Node);
  return id > 0 ? id : undefined;
}
