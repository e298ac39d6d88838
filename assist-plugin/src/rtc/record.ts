import type { FeatureFactory } from './feature.js';
import { RTC_ATTR, agentName, h } from './ui-kit.js';

/**
 * Call recording, the user's side: the agent records (MediaRecorder in the agent's browser, chunks
 * uploaded to the server); the user consents in a prompt naming the agent and sees a "Recording"
 * mark, with a Stop button, for as long as `assist:state.recording` is set.
 */
export const createRecord: FeatureFactory = (ctx) => {
  let mark: HTMLElement | null = null;
  let text: HTMLElement | null = null;
  let unmount: (() => void) | null = null;
  let on = false;

  const hide = () => {
    unmount?.();
    unmount = null;
    mark = text = null;
    on = false;
  };

  const show = (name: string) => {
    on = true;
    if (!mark) {
      const doc = ctx.doc;
      text = h(doc, 'span', { class: 'text' });
      const stop = h(doc, 'button', { type: 'button', class: 'secondary', [RTC_ATTR.recordingStop]: '' }, 'Stop recording');
      stop.addEventListener(
        'click',
        ctx.wrap('recording stop', () => {
          ctx.send('assist:end', { feature: 'record' });
          hide();
        }),
      );
      mark = h(doc, 'div', { class: 'box rec', role: 'status', 'aria-live': 'polite', [RTC_ATTR.recording]: '' }, h(doc, 'span', { class: 'dot', 'aria-hidden': 'true' }), text, stop);
      unmount = ctx.ui.mount(mark);
    }
    text!.textContent = `Recording: ${name} is recording this call`;
  };

  return {
    name: 'record',
    onState(state) {
      // The mark goes with the call: it shows in the tab the user answered the call in.
      const here = !!state.call && state.call.tabId === ctx.tabId();
      if (state.recording && here) show(agentName(state.recording.agent));
      else if (on) hide();
    },
    promptText(req) {
      return `${agentName(req.agent)} would like to record this call (sound and video; the page itself is not filmed)`;
    },
    summarize(s) {
      s.recording = on;
    },
    dispose: hide,
  };
};
