/**
 * JSON.stringify in slices, for the events too big to serialise in one task (the first full snapshot of
 * a big page: 60,000 nodes took one 128 ms task, issue 8). The output is JSON.stringify's, byte for byte.
 *
 * Only what is big is walked here: a container (plain object or array) holding at most WHOLE_MAX_CONTAINERS
 * objects and arrays, counted with an early exit, goes to the native JSON.stringify whole — leaves,
 * attributes, small subtrees, and every ordinary event — so the walk in JS touches only the few big
 * containers on the way down (a snapshot's upper levels), and each native call stays short. Walking an
 * object follows JSON.stringify's rules: Object.keys order, keys whose value serialises to nothing left
 * out (in arrays: null), anything with toJSON or not a plain object/array serialised natively, a cycle
 * through the walked containers is a TypeError as JSON.stringify's.
 *
 * One difference, on purpose: a value with toJSON inside a walked container gets '' as its key argument
 * (JSON.stringify passes the property name). Events carry no such values (rrweb builds plain data).
 */

/**
 * About 1,000 snapshot nodes (a node is up to three containers: itself, its attributes, its childNodes):
 * measured at 1-3 ms of native JSON.stringify in Chromium, so a slice overshoots its budget by that much
 * at most; smaller would walk more in JS, which costs CPU (the native serialiser is faster than any walk).
 */
export const WHOLE_MAX_CONTAINERS = 3_000;

/**
 * A native JSON.stringify output at least this long becomes a piece of its own instead of being appended to
 * the slice's text: the compression hand-off posts pieces to the worker, and posting a string built by
 * concatenation first copies it flat on the page's heap (1.2 MB more garbage for a 1.2 MB snapshot, which
 * the page's next burst of work paid for in a scavenge; issue 8). A native output (or a slice of one) is
 * posted as it is.
 */
export const OWN_PIECE_CHARS = 4 * 1024;

type Container = Record<string, unknown> | unknown[];

function isWalkable(v: unknown): v is Container {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * The walk's stack, reused, with its own top index: counting runs for every item of a wide array and
 * must not allocate. (With push/pop, V8 gives an array that pops down to empty a fresh backing store on
 * its next push: one small allocation per counted item, ~2.4 MB of young garbage for a 1.2 MB snapshot,
 * and a scavenge inside the page's next burst of work; issue 8.) Slots are cleared as they are popped,
 * so the stack keeps no event alive.
 */
const countStack: unknown[] = [];

/**
 * How many objects and arrays `v` holds (itself included), counting no further than `limit + 1`: an
 * answer over `limit` means "more than limit".
 */
export function countContainers(v: unknown, limit: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  const stack = countStack;
  const base = 0; // nothing the walk calls counts again (plain data; JSON.stringify's rules)
  let top = base;
  stack[top++] = v;
  let n = 0;
  while (top > base) {
    const c = stack[--top] as Record<string, unknown> | unknown[];
    stack[top] = undefined;
    if (++n > limit) {
      while (top > base) stack[--top] = undefined;
      break;
    }
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) {
        const x = c[i];
        if (typeof x === 'object' && x !== null) stack[top++] = x;
      }
    } else {
      for (const k in c) {
        const x = c[k];
        if (typeof x === 'object' && x !== null) stack[top++] = x;
      }
    }
  }
  return n;
}

/** True when `v` holds more than `limit` objects and arrays (itself included); stops counting there. */
export function holdsMoreThan(v: unknown, limit: number): boolean {
  return countContainers(v, limit) > limit;
}

interface Frame {
  value: Container;
  /** Object keys (undefined for arrays). */
  keys?: string[];
  i: number;
  /** Something was written inside this container already (a comma goes before the next member). */
  wrote: boolean;
}

/** Quoted keys seen before: a snapshot repeats a handful of keys thousands of times. */
const quoted = new Map<string, string>();
function quoteKey(k: string): string {
  let q = quoted.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quoted.size < 1_000) quoted.set(k, q);
  }
  return q;
}

/**
 * One value being serialised: `run(until)` works until done or until performance.now() passes `until`,
 * and can be called again later; `result` is the JSON text once `run` answered true. The value must not
 * change in between (events are never changed after they are emitted).
 */
export class SlicedJson {
  result: string | undefined;
  private readonly stack: Frame[] = [];
  /**
   * The text so far, appended with `+=`: V8 keeps it as a rope and copies it once, when it is first read
   * (measured: Array join per slice and at the end cost 5x the native JSON.stringify's CPU here, copies).
   */
  private out = '';
  /**
   * The text in order (`result` is their concatenation): per slice, what was appended to `out`, and each
   * long native output on its own (OWN_PIECE_CHARS). The compression hand-off posts them (batcher.ts
   * batchParts): reading `result` whole would copy all of it at once. Some may be empty.
   */
  readonly pieces: string[] = [];

  constructor(value: unknown, private readonly wholeMax = WHOLE_MAX_CONTAINERS) {
    if (isWalkable(value) && holdsMoreThan(value, wholeMax)) this.out = this.open(value);
    else this.result = JSON.stringify(value);
  }

  /** True when finished (`result` is set). Throws what JSON.stringify would (cycles, BigInt). */
  run(until: number): boolean {
    if (this.result !== undefined || this.stack.length === 0) return true;
    const stack = this.stack;
    let out = this.out; // the opening bracket, on the first call
    let n = 0;
    while (stack.length) {
      // The clock every few members: a member is at most one bounded native call.
      if ((++n & 3) === 0 && performance.now() >= until) {
        this.pieces.push(out);
        this.out = '';
        return false;
      }
      const f = stack[stack.length - 1];
      if (f.keys) {
        if (f.i >= f.keys.length) {
          out += '}';
          stack.pop();
          continue;
        }
        const k = f.keys[f.i++];
        const v = (f.value as Record<string, unknown>)[k];
        const prefix = (f.wrote ? ',' : '') + quoteKey(k) + ':';
        if (this.walks(v)) {
          f.wrote = true;
          out += prefix + this.open(v);
          continue;
        }
        const json = JSON.stringify(v);
        if (json === undefined) continue; // undefined, functions, symbols: the key is left out
        f.wrote = true;
        out += prefix;
        if (json.length < OWN_PIECE_CHARS) out += json;
        else {
          this.pieces.push(out, json);
          out = '';
        }
      } else {
        const arr = f.value as unknown[];
        if (f.i >= arr.length) {
          out += ']';
          stack.pop();
          continue;
        }
        // A run of small items goes to one native call, as big as one small container may be: a mutation
        // storm's 10,000 attribute records cost one call per ~1,000 of them, not one each (per item, the
        // walk cost attributes-10000 10 % more CPU than plain rrweb's whole stringify; issue 8).
        const start = f.i;
        let end = start;
        let room = this.wholeMax;
        while (end < arr.length) {
          const n = countContainers(arr[end], room);
          if (n > room) break;
          room -= n;
          end++;
        }
        if (f.wrote) out += ',';
        f.wrote = true;
        if (end === start) {
          // This item alone is big (more than wholeMax containers): walk into it.
          const v = arr[f.i++];
          if (this.walks(v)) out += this.open(v);
          else out += JSON.stringify(v) ?? 'null';
          continue;
        }
        f.i = end;
        // JSON.stringify of a slice is its items' texts joined by commas (holes and undefined as null), bracketed.
        const items = JSON.stringify(start === 0 && end === arr.length ? arr : arr.slice(start, end)).slice(1, -1);
        if (items.length < OWN_PIECE_CHARS) out += items;
        else {
          this.pieces.push(out, items);
          out = '';
        }
      }
    }
    this.pieces.push(out);
    let all = '';
    for (const p of this.pieces) all += p;
    this.result = all;
    return true;
  }

  private walks(v: unknown): v is Container {
    if (!isWalkable(v) || !holdsMoreThan(v, this.wholeMax)) return false;
    for (const f of this.stack) if (f.value === v) throw new TypeError('Converting circular structure to JSON');
    return true;
  }

  /** Pushes the container's frame; answers its opening bracket. */
  private open(v: Container): string {
    if (Array.isArray(v)) {
      this.stack.push({ value: v, i: 0, wrote: false });
      return '[';
    }
    this.stack.push({ value: v, keys: Object.keys(v), i: 0, wrote: false });
    return '{';
  }
}
