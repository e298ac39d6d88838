/**
 * A console message as stored is the logged arguments joined by spaces, objects already turned into
 * JSON by rrweb's console plugin. To let the viewer expand objects, the message is cut into text and
 * JSON parts: every top-level `{...}` or `[...]` that parses as JSON becomes a value.
 */
export type MessagePart = { text: string } | { json: unknown };

/** Messages longer than this are shown as text: scanning and rendering huge dumps is not worth it. */
const MAX_PARSED_LENGTH = 64 * 1024;

export function splitConsoleMessage(message: string): MessagePart[] {
  if (message.length > MAX_PARSED_LENGTH || !/[[{]/.test(message)) return [{ text: message }];
  const parts: MessagePart[] = [];
  let textStart = 0;
  let i = 0;
  while (i < message.length) {
    const ch = message[i];
    if (ch !== '{' && ch !== '[') {
      i++;
      continue;
    }
    const end = matchingEnd(message, i);
    if (end === -1) {
      i++;
      continue;
    }
    const candidate = message.slice(i, end + 1);
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      i++;
      continue;
    }
    if (i > textStart) parts.push({ text: message.slice(textStart, i) });
    parts.push({ json: value });
    i = end + 1;
    textStart = i;
  }
  if (textStart < message.length) parts.push({ text: message.slice(textStart) });
  return parts;
}

/** Index of the bracket closing the one at `start`, skipping brackets inside JSON strings; -1 if none. */
function matchingEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const ch = s[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
