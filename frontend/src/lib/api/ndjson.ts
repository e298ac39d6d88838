/**
 * NDJSON reading. A network chunk can end in the middle of a line (or of a multi-byte character,
 * which TextDecoder's `stream` mode takes care of), so the splitter keeps the unfinished tail until
 * the next chunk or the end of the stream.
 */
export class NdjsonSplitter {
  /** Pieces of the unfinished last line. Kept as a list so a multi-megabyte line (a full snapshot)
   * arriving in many chunks is joined once, not re-copied and re-scanned at every chunk. */
  #parts: string[] = [];

  /** Complete, non-blank lines of `text` appended to what was left over. */
  push(text: string): string[] {
    const firstBreak = text.indexOf('\n');
    if (firstBreak === -1) {
      if (text) this.#parts.push(text);
      return [];
    }
    this.#parts.push(text.slice(0, firstBreak));
    const lines = [this.#parts.join('')];
    const rest = text.slice(firstBreak + 1).split('\n');
    const tail = rest.pop() ?? '';
    lines.push(...rest);
    this.#parts = tail ? [tail] : [];
    return lines.map(trimCr).filter((line) => line.length > 0);
  }

  /** The last line when the stream did not end with a newline. */
  end(): string[] {
    const last = trimCr(this.#parts.join(''));
    this.#parts = [];
    return last.length > 0 ? [last] : [];
  }
}

function trimCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

export interface StreamProgress {
  items: number;
  bytes: number;
}

/**
 * Parses an NDJSON response body as it arrives. `onItems` receives the values of each chunk
 * (so callers can render progress without waiting for the end); the full list is returned too.
 */
export async function readNdjson<T>(
  body: ReadableStream<Uint8Array>,
  onProgress?: (progress: StreamProgress) => void,
): Promise<T[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const splitter = new NdjsonSplitter();
  const items: T[] = [];
  let bytes = 0;
  const parse = (lines: string[]) => {
    for (const line of lines) items.push(JSON.parse(line) as T);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    parse(splitter.push(decoder.decode(value, { stream: true })));
    onProgress?.({ items: items.length, bytes });
  }
  parse(splitter.push(decoder.decode()));
  parse(splitter.end());
  onProgress?.({ items: items.length, bytes });
  return items;
}
