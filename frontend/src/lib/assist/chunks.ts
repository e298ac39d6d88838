/** Cuts a blob into pieces of at most `max` bytes (the server's chunk limit); the server appends them in order. */
export function splitBlob(blob: Blob, max: number): Blob[] {
  if (!(max > 0) || blob.size <= max) return [blob];
  const out: Blob[] = [];
  for (let at = 0; at < blob.size; at += max) out.push(blob.slice(at, Math.min(blob.size, at + max), blob.type));
  return out;
}
