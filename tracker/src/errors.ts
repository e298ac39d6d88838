import type { ErrorPayload } from '@tandem/protocol';
import type { Guard } from './safe.js';
import { TokenBucket } from './token-bucket.js';
import { safeString, truncate } from './truncate.js';

/** An error thrown in a requestAnimationFrame loop fires 60 times a second: keep a burst, drop the flood. */
const ERROR_BURST = 20;
const ERROR_PER_SECOND = 2;
const MESSAGE_MAX = 1_000;
/** Enough for ~30 frames of a typical stack; longer stacks repeat (recursion) more than they inform. */
const STACK_MAX = 4_000;

export function errorPayloadFromEvent(ev: ErrorEvent): ErrorPayload {
  const err = ev.error as unknown;
  const p: ErrorPayload = { kind: 'error', message: safeString(ev.message || err || 'Unknown error', MESSAGE_MAX) };
  if (err instanceof Error || (err && typeof err === 'object' && 'stack' in err)) {
    const e = err as Error;
    if (e.name) p.name = safeString(e.name, 200);
    if (e.stack) p.stack = truncate(String(e.stack), STACK_MAX);
  }
  if (ev.filename) p.source = safeString(ev.filename, 1000);
  if (ev.lineno) p.line = ev.lineno;
  if (ev.colno) p.column = ev.colno;
  return p;
}

export function errorPayloadFromRejection(ev: PromiseRejectionEvent): ErrorPayload {
  const reason = ev.reason as unknown;
  if (reason instanceof Error || (reason && typeof reason === 'object' && 'message' in reason && 'stack' in reason)) {
    const e = reason as Error;
    return {
      kind: 'unhandledrejection',
      message: safeString(e.message, MESSAGE_MAX),
      name: safeString(e.name || 'Error', 200),
      stack: e.stack ? truncate(String(e.stack), STACK_MAX) : undefined,
    };
  }
  let message: string;
  try {
    message = typeof reason === 'string' ? reason : JSON.stringify(reason) ?? String(reason);
  } catch {
    message = safeString(reason, MESSAGE_MAX);
  }
  return { kind: 'unhandledrejection', message: truncate(message, MESSAGE_MAX) };
}

/** Listens for uncaught errors and unhandled rejections; returns the uninstaller. */
export function installErrorCapture(
  guard: Guard,
  emit: (p: ErrorPayload) => void,
  win: Window = window,
): () => void {
  const bucket = new TokenBucket(ERROR_BURST, ERROR_PER_SECOND);
  const onError = guard.wrap('error capture', (ev: Event) => {
    // Resource load failures (img, script 404) reach window only in the capture phase and are not
    // ErrorEvents; we listen in the bubble phase and keep to script errors.
    if (!('message' in ev)) return;
    if (bucket.take()) emit(errorPayloadFromEvent(ev as ErrorEvent));
  });
  const onRejection = guard.wrap('rejection capture', (ev: Event) => {
    if (bucket.take()) emit(errorPayloadFromRejection(ev as PromiseRejectionEvent));
  });
  win.addEventListener('error', onError as EventListener);
  win.addEventListener('unhandledrejection', onRejection as EventListener);
  return () => {
    win.removeEventListener('error', onError as EventListener);
    win.removeEventListener('unhandledrejection', onRejection as EventListener);
  };
}
