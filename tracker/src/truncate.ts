/** Caps a string, marking the cut so a reader knows it was cut. */
export function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + `…[+${s.length - max}]` : s;
}

/** Any value as a bounded string, never throwing (toString of exotic objects can throw). */
export function safeString(v: unknown, max: number): string {
  let s: string;
  try {
    s = typeof v === 'string' ? v : v instanceof Error ? `${v.name}: ${v.message}` : String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return truncate(s, max);
}

/**
 * A JSON-safe, size-bounded copy of a user payload (identify traits, custom events): what we
 * cannot serialise becomes a string, and what is too big is cut to a string preview.
 */
export function jsonSafe(v: unknown, maxBytes: number): unknown {
  if (v === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return safeString(v, Math.min(maxBytes, 1000));
  }
  if (json === undefined) return undefined;
  if (json.length > maxBytes) return truncate(json, maxBytes);
  return JSON.parse(json);
}
