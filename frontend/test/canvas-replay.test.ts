import { describe, expect, it } from 'vitest';
import { frameBlob } from '../src/lib/replay/canvas-replay';

/** A sampled frame exactly as @rrweb/record 2.1.6's canvas FPS observer emits it. */
const frame = (base64: string, type = 'image/webp') => [
  { property: 'clearRect', args: [0, 0, 320, 180] },
  { property: 'drawImage', args: [{ rr_type: 'ImageBitmap', args: [{ rr_type: 'Blob', data: [{ rr_type: 'ArrayBuffer', base64 }], type }] }, 0, 0] },
];

describe('canvas replay frames', () => {
  it('takes a sampled frame as its encoded image, bytes and type intact', async () => {
    const blob = frameBlob(frame(Buffer.from('RIFF-webp-bytes').toString('base64')));
    expect(blob?.type).toBe('image/webp');
    expect(Buffer.from(await blob!.arrayBuffer()).toString()).toBe('RIFF-webp-bytes');
  });

  it('leaves plain 2D command batches to the drawing path', () => {
    expect(frameBlob([{ property: 'fillRect', args: [0, 0, 10, 10] }])).toBeNull();
    expect(frameBlob([{ property: 'clearRect', args: [0, 0, 1, 1] }, { property: 'drawImage', args: [{ rr_type: 'HTMLImageElement', src: 'x' }, 0, 0] }])).toBeNull();
  });
});
