import { z } from 'zod';
import {
  ASSIST_FEATURES, MAX_CONTROL_TEXT, MAX_SDP_BYTES, MAX_STROKE_POINTS, PEER_CHANNELS,
  type AnnotationStroke, type AssistEndRequest, type AssistFeature, type CanvasStreamInfo, type ControlInput, type PeerChannel, type PeerSignal,
} from '@tandem/protocol';

/**
 * Checks of the assist messages (signal.ts). Strict: an unknown key or a wrong type refuses the
 * message, and what is forwarded is the parsed value (never the client's object), so nothing rides
 * along to the other side. zod here (not hand-written like live:events) because these are small
 * messages at human rates and their refusals must say what was wrong.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function parse<T>(schema: z.ZodType<T>, raw: unknown): Parsed<T> {
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return { ok: false, message: `${where}${issue?.message ?? 'malformed'}` };
}

const ID = /^[A-Za-z0-9_-]{8,64}$/;
export const sessionIdSchema = z.string().regex(ID, 'sessionId must be 8-64 characters of [A-Za-z0-9_-]');
export const featureSchema = z.enum(ASSIST_FEATURES);
/** `tab:<tabId>` or `agent:<socketId>` (socket.io ids are 20 url-safe characters). */
export const peerIdSchema = z.string().regex(/^(tab|agent):[A-Za-z0-9_-]{1,64}$/, 'must be tab:<id> or agent:<id>');

/** Coordinates: the user's viewport in CSS px. 1e6 is far beyond any screen, well within float precision. */
const coord = z.number().finite().min(-1e6).max(1e6);
/** rrweb mirror ids are positive integers counted per page. */
const nodeId = z.number().int().min(0).max(2 ** 31 - 1);
const button = z.union([z.literal(0), z.literal(1), z.literal(2)]);

/** Only http(s) pages: a `javascript:` or `data:` URL would run or show something the site did not serve. */
const pageUrl = z.string().max(4096).refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'url must be an absolute http(s) URL');

const controlInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('pointer'), x: coord, y: coord }),
  z.strictObject({ type: z.literal('click'), x: coord, y: coord, nodeId: nodeId.optional(), button: button.optional() }),
  z.strictObject({ type: z.literal('dblclick'), x: coord, y: coord, nodeId: nodeId.optional() }),
  z.strictObject({ type: z.enum(['mousedown', 'mousemove', 'mouseup']), x: coord, y: coord, nodeId: nodeId.optional(), button: button.optional() }),
  z.strictObject({ type: z.literal('wheel'), x: coord, y: coord, dx: coord, dy: coord, nodeId: nodeId.optional() }),
  z.strictObject({ type: z.literal('scroll'), nodeId: nodeId.optional(), left: coord, top: coord }),
  // KeyboardEvent.key / .code values are short names ("Enter", "ArrowLeft", "KeyA") or one character.
  z.strictObject({
    type: z.literal('key'), key: z.string().min(1).max(32), code: z.string().max(32).optional(),
    shift: z.boolean().optional(), ctrl: z.boolean().optional(), alt: z.boolean().optional(), meta: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('text'), text: z.string().min(1).max(MAX_CONTROL_TEXT), nodeId: nodeId.optional() }),
  // An <option> value; 10,000 like a text input (values are usually short ids).
  z.strictObject({ type: z.literal('select'), nodeId, value: z.string().max(MAX_CONTROL_TEXT) }),
  z.strictObject({ type: z.literal('navigate'), url: pageUrl }),
]);

export const controlMessageSchema = z.object({ sessionId: sessionIdSchema, input: controlInputSchema });

/** A CSS color the overlay may paint with: hex, a name, or rgb()/rgba()/hsl()/hsla() of plain numbers. */
const COLOR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|(rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z]{1,48}\))$/;

const strokeSchema = z.strictObject({
  // As AnnotationStroke.id says: the overlay keys its strokes by it.
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'id must be 1-64 characters of [A-Za-z0-9_-]'),
  // Flat x,y pairs; MAX_STROKE_POINTS pairs per piece (the dashboard sends pieces of a few dozen).
  points: z.array(coord).max(MAX_STROKE_POINTS * 2).refine((p) => p.length % 2 === 0, 'points must be x,y pairs'),
  color: z.string().regex(COLOR, 'color must be a CSS color (hex, name, rgb(), hsl())'),
  // Pen widths in CSS px: below 0.5 is invisible, above 64 covers the page.
  width: z.number().finite().min(0.5).max(64),
  done: z.boolean(),
});

export const strokeMessageSchema = z.object({ sessionId: sessionIdSchema, stroke: strokeSchema });

/** Candidate lines are ~100-200 bytes; 2 KiB leaves room for long hostnames (mDNS, TURN relays). */
const MAX_CANDIDATE_BYTES = 2048;

const signalSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.enum(['offer', 'answer', 'pranswer', 'rollback']), sdp: z.string().max(MAX_SDP_BYTES) }),
  z.strictObject({
    type: z.literal('candidate'),
    candidate: z.strictObject({
      candidate: z.string().max(MAX_CANDIDATE_BYTES),
      sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
      sdpMid: z.string().max(64).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    }),
  }),
  z.strictObject({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }),
  z.strictObject({
    type: z.literal('transceiverRequest'),
    transceiverRequest: z.strictObject({
      kind: z.enum(['audio', 'video']),
      // RTCRtpTransceiverInit: direction, streams, sendEncodings. Opaque, but small.
      init: z.record(z.string(), z.unknown()).refine((v) => JSON.stringify(v).length <= 4096, 'init is too large').optional(),
    }),
  }),
]);

const signalOutSchema = z.object({ sessionId: sessionIdSchema.optional(), to: peerIdSchema, signal: signalSchema, channel: z.enum(PEER_CHANNELS).optional() });

/** A page has a handful of canvases; 64 streams would already be far more video than a peer carries. */
export const MAX_CANVAS_STREAMS = 64;
const canvasStreamsSchema = z.object({
  streams: z.array(z.strictObject({ nodeId, streamId: z.string().min(1).max(128) })).max(MAX_CANVAS_STREAMS),
});

const requestSchema = z.object({ sessionId: sessionIdSchema, feature: featureSchema });
const answerSchema = z.object({ requestId: z.string().min(1).max(64), accepted: z.boolean() });
const endSchema = z.object({ sessionId: sessionIdSchema.optional(), feature: featureSchema, agentPeerId: peerIdSchema.optional() });
const sessionOnlySchema = z.object({ sessionId: sessionIdSchema });

export const parseControl = (raw: unknown): Parsed<{ sessionId: string; input: ControlInput }> => parse(controlMessageSchema, raw) as Parsed<{ sessionId: string; input: ControlInput }>;
export const parseStroke = (raw: unknown): Parsed<{ sessionId: string; stroke: AnnotationStroke }> => parse(strokeMessageSchema, raw);
type ParsedSignal = { sessionId?: string; to: string; signal: PeerSignal; channel?: PeerChannel };
export const parseSignal = (raw: unknown): Parsed<ParsedSignal> => parse(signalOutSchema, raw) as Parsed<ParsedSignal>;
export const parseCanvasStreams = (raw: unknown): Parsed<{ streams: CanvasStreamInfo[] }> => parse(canvasStreamsSchema, raw);
export const parseRequest = (raw: unknown): Parsed<{ sessionId: string; feature: AssistFeature }> => parse(requestSchema, raw);
export const parseAnswer = (raw: unknown): Parsed<{ requestId: string; accepted: boolean }> => parse(answerSchema, raw);
export const parseEnd = (raw: unknown): Parsed<AssistEndRequest> => parse(endSchema, raw);
export const parseSessionOnly = (raw: unknown): Parsed<{ sessionId: string }> => parse(sessionOnlySchema, raw);
