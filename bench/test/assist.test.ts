import { describe, expect, it } from 'vitest';
import { canvasUserPage, controlUserPage, fpsOf, splitControl } from '../src/lib/assist-bench.js';
import { READY_TEXT } from '../src/lib/live-pages.js';

describe('assist bench arithmetic', () => {
  it('pairs the k-th agent click with the k-th frames and handler call, skipping the warm-up', () => {
    const s = splitControl(
      { clickAt: [0, 100, 200, 300], ctlSend: [2, 103, 201, 302], ctlRecv: [5, 110, 204, 306], fired: [6, 112, 210] },
      1,
    );
    expect(s.inputs).toBe(3);
    expect(s.total).toEqual([12, 10]);
    expect(s.agentSide).toEqual([3, 1]);
    expect(s.relay).toEqual([7, 3]);
    expect(s.userSide).toEqual([2, 6]);
    expect(s.missing).toBe(1);
  });

  it('keeps the total when the taps saw no frame (control sent another way)', () => {
    const s = splitControl({ clickAt: [0, 50], ctlSend: [], ctlRecv: [], fired: [9, 61] });
    expect(s.total).toEqual([9, 11]);
    expect(s.relay).toEqual([]);
  });

  it('frames per second from requestVideoFrameCallback samples', () => {
    expect(fpsOf([[0, 10], [500, 25], [1000, 40]])).toBe(30);
    expect(fpsOf([[0, 1]])).toBeNaN();
  });

  it('test pages carry the snippet and the known heading', () => {
    expect(canvasUserPage('pk_x')).toContain('data-project-key="pk_x"');
    expect(canvasUserPage('pk_x')).toContain(READY_TEXT);
    expect(controlUserPage('pk_y')).toContain('id="target"');
  });
});
