import { describe, expect, it } from 'vitest';
import { CanvasLevelMemory, canvasRecordOptions } from '../src/canvas.js';
import { safeStorage } from '../src/session.js';

describe('canvas recording options', () => {
  it('records no canvas when off, sampled WebP frames when low or high', () => {
    expect(canvasRecordOptions('off')).toEqual({ recordCanvas: false });
    expect(canvasRecordOptions('low')).toEqual({ recordCanvas: true, canvasFps: 2, dataURLOptions: { type: 'image/webp', quality: 0.4 } });
    const high = canvasRecordOptions('high');
    expect(high.canvasFps).toBeGreaterThan(canvasRecordOptions('low').canvasFps!);
    expect(high.dataURLOptions!.quality).toBeGreaterThan(0.4);
  });

  it('remembers the project level for the next page load, and reads junk as off', () => {
    const store = safeStorage(() => undefined);
    const memory = new CanvasLevelMemory(store, 'tandem:k:canvas');
    expect(memory.recall()).toBe('off');
    memory.remember('high');
    expect(new CanvasLevelMemory(store, 'tandem:k:canvas').recall()).toBe('high');
    store.setItem('tandem:k:canvas', 'ultra');
    expect(memory.recall()).toBe('off');
  });
});
