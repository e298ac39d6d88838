// The React app of the remote-control test page (bundled with esbuild by e2e/tests/support/assist-pages.ts).
// Every handler records what happened in window.__events ({type, detail, t}) so tests and the
// control-latency bench can tell when an agent's input fired on the user's page; `t` is
// performance.timeOrigin + performance.now(), a clock shared by every page of one Chromium.
import { createElement as h, useState } from 'react';
import { createRoot } from 'react-dom/client';

const log = (type, detail = '') => {
  const w = window;
  (w.__events ||= []).push({ type, detail, t: performance.timeOrigin + performance.now() });
};

function App() {
  const [name, setName] = useState('');
  const [clicks, setClicks] = useState(0);
  const [qty, setQty] = useState('');
  const [submitted, setSubmitted] = useState('');
  const [color, setColor] = useState('red');
  const [svgClicks, setSvgClicks] = useState(0);
  return h('main', null,
    h('h1', null, 'Assist control page'),
    h('label', null, 'Name ',
      // Controlled: React owns the value, so a value set without React's knowledge would be reverted.
      h('input', { id: 'name', value: name, onChange: (e) => { setName(e.target.value); log('name', e.target.value); } })),
    h('p', { id: 'name-echo' }, `React state name: ${name}`),
    h('button', { id: 'inc', onClick: () => { setClicks((c) => c + 1); log('click', 'inc'); } }, 'Add one'),
    h('p', { id: 'clicks' }, `Clicked ${clicks} times`),
    h('form', { id: 'order', onSubmit: (e) => { e.preventDefault(); setSubmitted(qty); log('submit', qty); } },
      h('label', null, 'Quantity ', h('input', { id: 'qty', value: qty, onChange: (e) => setQty(e.target.value) })),
      h('button', { type: 'submit' }, 'Order')),
    h('p', { id: 'submitted' }, submitted ? `Submitted ${submitted}` : 'Not submitted'),
    h('label', null, 'Colour ',
      h('select', { id: 'color', value: color, onChange: (e) => { setColor(e.target.value); log('select', e.target.value); } },
        h('option', { value: 'red' }, 'Red'), h('option', { value: 'green' }, 'Green'), h('option', { value: 'blue' }, 'Blue'))),
    h('p', { id: 'color-echo' }, `Colour is ${color}`),
    h('label', null, 'Password ', h('input', { id: 'password', type: 'password', autoComplete: 'off', onInput: (e) => log('password', String(e.target.value.length)) })),
    h('div', { id: 'svg-wrap' },
      h('svg', { id: 'svg-btn', width: 120, height: 40, role: 'button', onClick: () => { setSvgClicks((c) => c + 1); log('click', 'svg'); } },
        h('rect', { width: 120, height: 40, rx: 6, fill: '#2a6' }),
        h('text', { x: 14, y: 26, fill: '#fff' }, 'SVG button'))),
    h('p', { id: 'svg-clicks' }, `SVG clicked ${svgClicks} times`),
    h('div', { id: 'scroller', style: { height: 120, width: 320, overflow: 'auto', border: '1px solid #888' }, onScroll: (e) => log('scroller', String(e.currentTarget.scrollTop)) },
      h('div', { style: { height: 2000, background: 'linear-gradient(#fff, #9cf)' } }, 'Scrollable box: top')),
    h('p', null, h('a', { id: 'to-second', href: '/app/second.html' }, 'Second page')),
  );
}

createRoot(document.getElementById('root')).render(h(App));

// An element in an open shadow root (custom element), outside React.
class ShadowWidget extends HTMLElement {
  connectedCallback() {
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<button id="shadow-btn">Shadow button</button><span id="shadow-out">not clicked</span>';
    root.getElementById('shadow-btn').addEventListener('click', () => {
      root.getElementById('shadow-out').textContent = 'shadow clicked';
      log('click', 'shadow');
    });
  }
}
customElements.define('shadow-widget', ShadowWidget);
window.addEventListener('scroll', () => log('scroll', String(window.scrollY)), { passive: true });
