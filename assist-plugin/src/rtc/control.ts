import type { AssistAgent } from '@tandem/protocol';
import { ControlExecutor, type ControlRefusal } from './control-executor.js';
import type { FeatureContext, FeatureFactory } from './feature.js';
import { RTC_ATTR, agentName, h } from './ui-kit.js';

/**
 * Remote control, the user's side. On while `assist:state.control` names this tab (the user
 * accepted; after a reload or a visit of another page of the site the grant is in the first state
 * and control resumes without a prompt, R4). The server forwards input only from the holder (R2);
 * this checks again. The user sees "<agent> is controlling this page" with a button that takes
 * control back at once (locally first, then the server is told). The agent's pointer is drawn on the page.
 */

/** Is `node` part of the plugin's UI (its host, or anything inside its shadow root)? */
export function isOwnUi(node: Node | null, host: Element | null): boolean {
  for (let n: Node | null = node, depth = 0; n && depth < 512; depth++) {
    if (n === host || (n.nodeType === 1 && (n as Element).tagName === 'TANDEM-ASSIST')) return true;
    n = n.parentNode ?? (n as ShadowRoot).host ?? null;
  }
  return false;
}

const ARROW_SVG =
  '<svg width="22" height="22" viewBox="0 0 22 22" aria-hidden="true"><path d="M3 2l14 8.2-6.2 1.3L7.6 18z" fill="#f59e0b" stroke="#111827" stroke-width="1.5" stroke-linejoin="round"/></svg>';

class ControlUi {
  private banner: HTMLElement | null = null;
  private text: HTMLElement | null = null;
  private pointer: HTMLElement | null = null;
  private label: HTMLElement | null = null;
  private unmounts: (() => void)[] = [];

  constructor(
    private readonly ctx: FeatureContext,
    private readonly onTakeBack: () => void,
  ) {}

  show(agent: AssistAgent): void {
    const doc = this.ctx.doc;
    if (!this.banner) {
      this.text = h(doc, 'span', { class: 'text' });
      const stop = h(doc, 'button', { type: 'button', [RTC_ATTR.controlStop]: '' }, 'Take back control');
      stop.addEventListener('click', this.ctx.wrap('control take back', () => this.onTakeBack()));
      this.banner = h(doc, 'div', { class: 'box control', role: 'status', 'aria-live': 'polite', [RTC_ATTR.control]: '' }, h(doc, 'span', { class: 'dot', 'aria-hidden': 'true' }), this.text, stop);
      this.label = h(doc, 'span', { class: 'label' });
      this.pointer = h(doc, 'div', { class: 'pointer', [RTC_ATTR.pointer]: '', 'aria-hidden': 'true' });
      this.pointer.innerHTML = ARROW_SVG;
      this.pointer.append(this.label);
      this.pointer.hidden = true;
      this.unmounts.push(this.ctx.ui.mount(this.pointer), this.ctx.ui.mount(this.banner));
    }
    const name = agentName(agent);
    this.text!.textContent = `${name} is controlling this page`;
    this.banner.setAttribute('data-agent', name);
    this.label!.textContent = name;
  }

  movePointer(x: number, y: number, pressed: boolean): void {
    if (!this.pointer) return;
    this.pointer.hidden = false;
    this.pointer.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
    this.pointer.classList.toggle('press', pressed);
  }

  hide(): void {
    for (const u of this.unmounts.splice(0)) u();
    this.banner = this.text = this.pointer = this.label = null;
  }
}

export const createControl: FeatureFactory = (ctx) => {
  let grant: { agent: AssistAgent; since: number } | null = null;
  /** `since` of the grant the user took back: ignored until the server's state no longer has it. */
  let takenBack: number | null = null;
  let inputs = 0;
  let refused = 0;
  const refusals: Partial<Record<ControlRefusal | 'not-holder', number>> = {};

  const ui = new ControlUi(ctx, () => takeBack());
  const executor = new ControlExecutor({
    doc: ctx.doc,
    mirror: () => ctx.mirror(),
    isOwnUi: (node) => isOwnUi(node, ctx.ui.host),
    pointer: (x, y, pressed) => ui.movePointer(x, y, pressed),
  });

  const refuse = (why: ControlRefusal | 'not-holder') => {
    refused++;
    refusals[why] = (refusals[why] ?? 0) + 1;
  };

  const takeBack = () => {
    if (!grant) return;
    takenBack = grant.since;
    grant = null;
    ui.hide(); // stops at once: inputs still in flight are refused below
    ctx.send('assist:end', { feature: 'control' });
  };

  return {
    name: 'control',
    onState(state) {
      const c = state.control && state.control.tabId === ctx.tabId() ? state.control : null;
      if (!c) takenBack = null;
      grant = c && c.since !== takenBack && c.agent && typeof c.agent.peerId === 'string' ? { agent: c.agent, since: c.since } : null;
      if (grant) ui.show(grant.agent);
      else ui.hide();
    },
    promptText(req) {
      return `${agentName(req.agent)} would like to control this page: click, scroll and type for you (this includes drawing on it). Password fields stay off limits.`;
    },
    on: {
      'control:input': (msg) => {
        if (!grant || msg?.agentPeerId !== grant.agent.peerId) return refuse('not-holder');
        const result = executor.run(msg.input);
        if (result.ok) inputs++;
        else refuse(result.reason);
      },
    },
    summarize(s) {
      s.controlledBy = grant ? agentName(grant.agent) : null;
      s.controlInputs = inputs;
      s.controlRefused = refused;
      s.controlRefusals = { ...refusals } as Record<string, number>;
    },
    dispose() {
      grant = null;
      ui.hide();
    },
  };
};
