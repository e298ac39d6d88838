import type { FeatureContext } from './feature.js';
import { RTC_ATTR, h, initials } from './ui-kit.js';

/**
 * The user's call panel: small, movable (drag the title bar, or focus it and use the arrow keys),
 * the agents' video when their camera is on (their initials otherwise), the user's own preview,
 * and Mute / Camera / Hang up.
 */

export interface CallTile {
  peerId: string;
  name: string;
  stream: MediaStream | null;
}

export interface CallView {
  tiles: CallTile[];
  local: MediaStream | null;
  muted: boolean;
  cameraOff: boolean;
  status: string;
}

export interface CallUiHandlers {
  mute(): void;
  camera(): void;
  hangup(): void;
}

/** Arrow keys move the panel by this much (Shift: 4×): quick to get out of the way, fine enough to place. */
const KEY_STEP_PX = 24;
/** The panel keeps this much of itself on screen wherever it is dragged. */
const EDGE_PX = 8;

interface Tile {
  el: HTMLElement;
  video: HTMLVideoElement;
  avatar: HTMLElement;
  label: HTMLElement;
  stream: MediaStream | null;
}

export class CallUi {
  private readonly panel: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly self: HTMLElement;
  private readonly selfVideo: HTMLVideoElement;
  private readonly muteBtn: HTMLButtonElement;
  private readonly cameraBtn: HTMLButtonElement;
  private readonly tiles = new Map<string, Tile>();
  private readonly unmount: () => void;
  private readonly watched = new WeakSet<MediaStream>();
  private last: CallView | null = null;

  constructor(
    private readonly ctx: FeatureContext,
    handlers: CallUiHandlers,
  ) {
    const doc = ctx.doc;
    const w = ctx.wrap;
    this.title = h(doc, 'div', { class: 'handle', tabindex: '0', role: 'button', 'aria-label': 'Call with support: drag or use the arrow keys to move this panel' }, 'Call with support');
    this.muteBtn = h(doc, 'button', { type: 'button', [RTC_ATTR.mute]: '', 'aria-pressed': 'false' }, 'Mute');
    this.cameraBtn = h(doc, 'button', { type: 'button', [RTC_ATTR.camera]: '', 'aria-pressed': 'false' }, 'Camera off');
    const hangup = h(doc, 'button', { type: 'button', [RTC_ATTR.hangup]: '', 'aria-label': 'Hang up' }, 'Hang up');
    this.muteBtn.addEventListener('click', w('call mute', () => handlers.mute()));
    this.cameraBtn.addEventListener('click', w('call camera', () => handlers.camera()));
    hangup.addEventListener('click', w('call hangup', () => handlers.hangup()));
    this.grid = h(doc, 'div', { class: 'grid' });
    this.selfVideo = video(doc, true);
    this.self = h(doc, 'div', { class: 'self', 'aria-label': 'Your camera' }, this.selfVideo);
    this.status = h(doc, 'div', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.panel = h(
      doc,
      'section',
      { class: 'call', [RTC_ATTR.call]: '', 'aria-label': 'Call with support' },
      h(doc, 'div', { class: 'bar' }, this.title),
      this.grid,
      this.self,
      this.status,
      h(doc, 'div', { class: 'controls' }, this.muteBtn, this.cameraBtn, hangup),
    );
    this.makeMovable();
    this.unmount = ctx.ui.mount(this.panel);
  }

  render(view: CallView): void {
    this.last = view;
    const names = view.tiles.map((t) => t.name);
    this.title.textContent = names.length ? `Call with ${names.join(', ')}` : 'Call with support';
    this.status.textContent = view.status;
    this.muteBtn.setAttribute('aria-pressed', String(view.muted));
    this.muteBtn.textContent = view.muted ? 'Unmute' : 'Mute';
    this.cameraBtn.setAttribute('aria-pressed', String(view.cameraOff));
    this.cameraBtn.textContent = view.cameraOff ? 'Camera on' : 'Camera off';
    this.cameraBtn.hidden = !view.local?.getVideoTracks().length;
    // Own preview (muted element: the user never hears themselves).
    if (this.selfVideo.srcObject !== view.local) this.selfVideo.srcObject = view.local;
    this.self.hidden = !view.local || view.cameraOff || !view.local.getVideoTracks().length;

    const seen = new Set<string>();
    for (const t of view.tiles) {
      seen.add(t.peerId);
      const tile = this.tiles.get(t.peerId) ?? this.addTile(t.peerId);
      tile.label.textContent = t.name;
      tile.avatar.textContent = initials(t.name);
      if (tile.stream !== t.stream) {
        tile.stream = t.stream;
        tile.video.srcObject = t.stream;
        if (t.stream) {
          this.watch(t.stream);
          tile.video.play().catch(() => {
            /* autoplay refused: the next user gesture on the page plays it (browsers queue it) */
          });
        }
      }
      const showVideo = !!t.stream && t.stream.getVideoTracks().some((tr) => tr.readyState === 'live' && !tr.muted);
      tile.video.style.visibility = showVideo ? 'visible' : 'hidden';
      tile.avatar.hidden = showVideo;
    }
    for (const [id, tile] of this.tiles) {
      if (seen.has(id)) continue;
      tile.video.srcObject = null;
      tile.el.remove();
      this.tiles.delete(id);
    }
    const solo = this.tiles.size === 1;
    for (const tile of this.tiles.values()) tile.el.classList.toggle('solo', solo);
  }

  destroy(): void {
    for (const tile of this.tiles.values()) tile.video.srcObject = null;
    this.selfVideo.srcObject = null;
    this.tiles.clear();
    this.unmount();
  }

  private addTile(peerId: string): Tile {
    const doc = this.ctx.doc;
    const v = video(doc, false);
    const avatar = h(doc, 'div', { class: 'avatar', 'aria-hidden': 'true' });
    const label = h(doc, 'span', { class: 'name' });
    const el = h(doc, 'div', { class: 'tile', 'data-peer': peerId }, v, avatar, label);
    this.grid.append(el);
    const tile: Tile = { el, video: v, avatar, label, stream: null };
    this.tiles.set(peerId, tile);
    return tile;
  }

  /** Camera on/off on the agent's side shows as its video track muting (no frames): redraw then. */
  private watch(stream: MediaStream): void {
    if (this.watched.has(stream)) return;
    this.watched.add(stream);
    const redraw = this.ctx.wrap('call redraw', () => this.last && this.render(this.last));
    const hook = (track: MediaStreamTrack) => {
      track.addEventListener('mute', redraw);
      track.addEventListener('unmute', redraw);
      track.addEventListener('ended', redraw);
    };
    stream.getTracks().forEach(hook);
    stream.addEventListener('addtrack', (e) => {
      hook((e as MediaStreamTrackEvent).track);
      redraw();
    });
    stream.addEventListener('removetrack', redraw);
  }

  private makeMovable(): void {
    const win = this.ctx.doc.defaultView;
    if (!win) return;
    const panel = this.panel;
    const moveTo = (left: number, top: number) => {
      const r = panel.getBoundingClientRect();
      const maxLeft = Math.max(EDGE_PX, win.innerWidth - r.width - EDGE_PX);
      const maxTop = Math.max(EDGE_PX, win.innerHeight - r.height - EDGE_PX);
      panel.style.left = `${Math.min(Math.max(EDGE_PX, left), maxLeft)}px`;
      panel.style.top = `${Math.min(Math.max(EDGE_PX, top), maxTop)}px`;
      panel.style.bottom = 'auto';
    };
    let drag: { id: number; dx: number; dy: number } | null = null;
    this.title.addEventListener(
      'pointerdown',
      this.ctx.wrap('call drag', (e: PointerEvent) => {
        if (e.button !== 0) return;
        const r = panel.getBoundingClientRect();
        drag = { id: e.pointerId, dx: e.clientX - r.left, dy: e.clientY - r.top };
        this.title.setPointerCapture?.(e.pointerId);
        e.preventDefault();
      }),
    );
    this.title.addEventListener(
      'pointermove',
      this.ctx.wrap('call drag', (e: PointerEvent) => {
        if (drag && e.pointerId === drag.id) moveTo(e.clientX - drag.dx, e.clientY - drag.dy);
      }),
    );
    const end = (e: PointerEvent) => {
      if (drag && e.pointerId === drag.id) drag = null;
    };
    this.title.addEventListener('pointerup', end);
    this.title.addEventListener('pointercancel', end);
    this.title.addEventListener(
      'keydown',
      this.ctx.wrap('call move key', (e: KeyboardEvent) => {
        const step = e.shiftKey ? KEY_STEP_PX * 4 : KEY_STEP_PX;
        const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
        if (!d) return;
        e.preventDefault();
        const r = panel.getBoundingClientRect();
        moveTo(r.left + d[0]!, r.top + d[1]!);
      }),
    );
  }
}

function video(doc: Document, muted: boolean): HTMLVideoElement {
  const v = h(doc, 'video', { playsinline: '', autoplay: '' });
  v.muted = muted;
  v.autoplay = true;
  v.playsInline = true;
  return v;
}
