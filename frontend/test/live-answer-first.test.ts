import { EventEmitter } from 'node:events';
import type { PeerSignal } from '@tandem/protocol';
import { describe, expect, it, vi } from 'vitest';
import { PeerMesh, type PeerFactory } from '../src/lib/assist/peers';
import { AnswerFirst } from '../src/pages/live/join-policy';

class FakePeer extends EventEmitter {
  constructor(readonly opts: { initiator?: boolean }) {
    super();
  }
  signal() {}
  destroy() {}
}
const offer = { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AA:BB\r\n' } as PeerSignal;

function mesh() {
  const made: FakePeer[] = [];
  const factory: PeerFactory = (opts) => (made.push(new FakePeer(opts)), made[made.length - 1] as never);
  return { made, mesh: new PeerMesh(() => {}, { stream() {}, streamChanged() {}, closed() {} }, factory) };
}

describe('the first picture waits for a canvas answer being made', () => {
  it('PeerMesh.answered: null with no offer; resolves when the answer leaves or the peer closes', async () => {
    const { mesh: m, made } = mesh();
    m.watchCanvasesOf('T1');
    // Watched but not offered to: nothing to wait for.
    expect(m.answered()).toBeNull();
    m.signal('tab:T1', offer, 'canvas');
    const waiting = m.answered();
    expect(waiting).not.toBeNull();
    let done = false;
    void waiting!.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    made[0].emit('signal', { type: 'answer', sdp: 'a' });
    await waiting;
    expect(done).toBe(true);
    expect(m.answered()).toBeNull();
    m.signal('tab:T2', offer, 'canvas');
    const again = m.answered()!;
    m.close('canvas:tab:T2');
    await again;
  });

  it('AnswerFirst holds the first message and those after it until answered, in order, once', async () => {
    let answer!: () => void;
    const pending = new Promise<void>((r) => (answer = r));
    let first = true;
    const gate = new AnswerFirst<number>(() => (first ? ((first = false), pending) : null));
    const handled: number[] = [];
    const handle = (m: number) => {
      if (!gate.hold(m, handle)) handled.push(m);
    };
    handle(1);
    handle(2);
    expect(handled).toEqual([]);
    answer();
    await pending;
    await Promise.resolve();
    expect(handled).toEqual([1, 2]);
    handle(3);
    expect(handled).toEqual([1, 2, 3]);
  });

  it('AnswerFirst lets the picture go after its limit, and does not hold without a pending answer', () => {
    vi.useFakeTimers();
    try {
      const gate = new AnswerFirst<string>(() => new Promise<void>(() => {}), 200);
      const handled: string[] = [];
      const handle = (m: string) => void (gate.hold(m, handle) || handled.push(m));
      handle('snapshot');
      vi.advanceTimersByTime(199);
      expect(handled).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(handled).toEqual(['snapshot']);
      const none = new AnswerFirst<string>(() => null);
      expect(none.hold('x', () => {})).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});
