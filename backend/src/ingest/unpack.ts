import { TandemError } from '@tandem/protocol';

/**
 * Batch packing, version 1: what the tracker's compression worker does to a batch before gzip
 * (tracker/src/pack-source.ts), undone here before the batch is validated and stored. Every step is exact:
 * the events come back as the objects the page recorded, keys in the same order, so the JSON stored is the
 * JSON the page produced (the bytes bench checks it event by event). Why: per-request gzip of rrweb JSON
 * stopped at 0.134× of the raw JSON; these steps took the bench's minute to 0.098× (docs/decisions.md, issue 8).
 *
 * The envelope carries `pack: 1` or `pack: 2`. Version 2 is version 1 without the envelope's `sessionId` and
 * `tabId`: they are the session token's (the route checked they matched it anyway), ~500 of 12,800 bytes
 * on the bytes bench's minute, where random ids are what gzip cannot shrink. In `events`, in order:
 * - `timestamp` is the difference from the previous event's timestamp (the first: from 0);
 * - `seq` is absent when it is the previous event's seq + 1 (the first event always has it); it goes back
 *   as the last key, where the tracker's events have it;
 * - FullSnapshot (type 2) `data.node`: a node's `id` is absent when it is the previous node's id + 1 in
 *   document order (rrweb numbers a snapshot that way), and goes back as the node's last key; a text node
 *   `{type:3,textContent}` is written as its string, an element `{type:2,tagName,attributes,childNodes}`
 *   as `[tagName, attributes, childNodes]` (only nodes with exactly those keys);
 * - mutation (type 3, source 0) `adds[].node`: `id` absent when it is the previous added node's id + 1;
 * - mouse/touch moves and drags (type 3, sources 1, 6, 12): a position `{x,y,id,timeOffset}` is `[x,y,id,timeOffset]`.
 * Anything that does not fit a rule is left as it was, so an unpacked event is always valid input.
 */
/** The newest packing version this server unpacks (announced in the start answer's `config.pack`); 1 is still read. */
export const PACK_VERSION = 2;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (message: string) => new TandemError('bad_request', `packed batch: ${message}`);
const MOVE_SOURCES = new Set([1, 6, 12]);

/**
 * Undoes packing in place when the body says `pack: 1` or `2`; any other body is returned untouched. `ids`
 * (the session token's) fill in a version 2 envelope's sessionId and tabId; without them they stay absent.
 */
export function unpackBatch(body: unknown, ids?: { sessionId: string; tabId: string }): unknown {
  if (!isObj(body) || body.pack === undefined) return body;
  if (body.pack !== 1 && body.pack !== 2) throw bad(`unknown pack version ${JSON.stringify(body.pack)}`);
  if (body.pack === 2 && ids) {
    if (body.sessionId !== undefined || body.tabId !== undefined) throw bad('version 2 takes sessionId and tabId from the token');
    body.sessionId = ids.sessionId;
    body.tabId = ids.tabId;
  }
  delete body.pack;
  const events = body.events;
  if (!Array.isArray(events)) return body; // the schema reports it
  let ts = 0;
  let seq = -1;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!isObj(e)) throw bad(`events.${i} is not an object`);
    if (typeof e.timestamp !== 'number') throw bad(`events.${i}.timestamp must be a number`);
    ts += e.timestamp;
    e.timestamp = ts;
    if (e.seq === undefined) {
      if (i === 0) throw bad('events.0.seq is required');
      e.seq = seq + 1;
    }
    if (typeof e.seq !== 'number') throw bad(`events.${i}.seq must be a number`);
    seq = e.seq;
    const data = e.data;
    if (!isObj(data)) continue;
    if (e.type === 2 && data.node !== undefined) data.node = unpackTree(data.node, i);
    else if (e.type === 3 && data.source === 0 && Array.isArray(data.adds)) unpackAdds(data.adds, i);
    else if (e.type === 3 && MOVE_SOURCES.has(data.source as number) && Array.isArray(data.positions)) unpackPositions(data.positions, i);
  }
  return body;
}

/** A snapshot's node tree, in document order with an explicit stack (pages nest deeper than a call stack likes). */
function unpackTree(root: Json, at: number): Obj {
  let next: number | null = null;
  const take = (packed: Json): Obj => {
    let node: Obj;
    if (typeof packed === 'string') node = { type: 3, textContent: packed };
    else if (Array.isArray(packed)) {
      const [tagName, attributes, childNodes] = packed;
      if (packed.length !== 3 || typeof tagName !== 'string' || !isObj(attributes) || !Array.isArray(childNodes)) {
        throw bad(`events.${at}: an element must be [tagName, attributes, childNodes]`);
      }
      node = { type: 2, tagName, attributes, childNodes };
    } else if (isObj(packed)) node = packed;
    else throw bad(`events.${at}: a node must be an object, an array or a string`);
    if (node.id === undefined) {
      if (next === null) throw bad(`events.${at}: the first node needs its id`);
      node.id = next;
    }
    if (typeof node.id !== 'number') throw bad(`events.${at}: node id must be a number`);
    next = node.id + 1;
    return node;
  };
  const top = take(root);
  const stack: { list: Json[]; i: number }[] = [];
  if (Array.isArray(top.childNodes)) stack.push({ list: top.childNodes, i: 0 });
  while (stack.length) {
    const frame = stack[stack.length - 1];
    if (frame.i >= frame.list.length) {
      stack.pop();
      continue;
    }
    const node = take(frame.list[frame.i]);
    frame.list[frame.i++] = node;
    if (Array.isArray(node.childNodes)) stack.push({ list: node.childNodes, i: 0 });
  }
  return top;
}

function unpackAdds(adds: Json[], at: number): void {
  let next: number | null = null;
  for (const add of adds) {
    if (!isObj(add) || !isObj(add.node)) continue;
    if (add.node.id === undefined) {
      if (next === null) throw bad(`events.${at}: the first added node needs its id`);
      add.node.id = next;
    }
    if (typeof add.node.id !== 'number') throw bad(`events.${at}: added node id must be a number`);
    next = add.node.id + 1;
  }
}

function unpackPositions(positions: Json[], at: number): void {
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    if (!Array.isArray(p)) continue;
    if (p.length !== 4 || !p.every((v) => typeof v === 'number')) throw bad(`events.${at}: a position must be [x, y, id, timeOffset]`);
    positions[i] = { x: p[0], y: p[1], id: p[2], timeOffset: p[3] };
  }
}
