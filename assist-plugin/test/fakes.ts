import type { TandemEvent } from '@tandem/protocol';
import type { AssistHost, AssistSession } from '../src/host.js';
import { FULL, META, ev } from './helpers.js';

type Fn = (...args: any[]) => void;

/** Enough of socket.io-client's Socket for the plugin, driven by the test as "the server". */
export class FakeSocket {
  static all: FakeSocket[] = [];
  handlers = new Map<string, Fn[]>();
  emitted: [string, ...unknown[]][] = [];
  pingAcks: Fn[] = [];
  connected = false;
  active = true;
  sendBuffer: unknown[] = [];
  connectCalls = 0;
  disconnectCalls = 0;
  handshakes: any[] = [];
  /** The socket.io Manager's reconnection pace setters, as the plugin sets them (handshake.ts paceReconnect). */
  io = {
    delay: 1_000,
    jitter: 0.5,
    reconnectionDelay(ms: number) {
      this.delay = ms;
    },
    randomizationFactor(f: number) {
      this.jitter = f;
    },
  };

  constructor(
    readonly url: string,
    readonly opts: any,
  ) {
    FakeSocket.all.push(this);
  }

  on(ev: string, fn: Fn) {
    const list = this.handlers.get(ev) ?? [];
    list.push(fn);
    this.handlers.set(ev, list);
    return this;
  }
  emit(ev: string, ...args: unknown[]) {
    this.emitted.push([ev, ...args]);
    return this;
  }
  timeout(_ms: number) {
    return {
      emit: (ev: string, t: number, ack: Fn) => {
        this.emitted.push([ev, t]);
        this.pingAcks.push(ack);
      },
    };
  }
  connect() {
    this.connectCalls++;
    return this;
  }
  disconnect() {
    this.disconnectCalls++;
    this.active = false;
    if (this.connected) this.serverDrop('io client disconnect');
    return this;
  }
  removeAllListeners() {
    this.handlers.clear();
    return this;
  }

  // ---- the test's side
  fire(ev: string, ...args: unknown[]) {
    for (const fn of this.handlers.get(ev) ?? []) fn(...args);
  }
  /** The handshake as socket.io would make it: auth(cb), then connect. */
  accept() {
    this.opts.auth((data: unknown) => this.handshakes.push(data));
    this.connected = true;
    this.fire('connect');
  }
  refuse(code: string) {
    this.opts.auth((data: unknown) => this.handshakes.push(data));
    this.active = false; // a middleware refusal: socket.io does not retry
    this.fire('connect_error', Object.assign(new Error(code), { data: { code, message: code } }));
  }
  serverDrop(reason = 'transport close') {
    this.connected = false;
    this.fire('disconnect', reason);
  }
  names() {
    return this.emitted.map((e) => e[0]);
  }
  liveBatches(): number[][] {
    return this.emitted.filter((e) => e[0] === 'live:events').map((e) => (e[1] as { events: TandemEvent[] }).events.map((x) => x.seq));
  }
}

export function fakeIo(url: string, opts: any) {
  return new FakeSocket(url, opts) as any;
}

export class FakeHost implements AssistHost {
  ingestUrl = 'https://tandem.test';
  listeners = new Set<(e: TandemEvent) => void>();
  sessionFns: ((s: AssistSession) => void)[] = [];
  session: AssistSession | undefined;
  seq = 0;
  snapshots = 0;
  ignored: string[] = [];
  errors: unknown[] = [];
  page = { url: 'https://shop.test/cart?token=[redacted]', title: 'Cart', userId: undefined as string | undefined };
  bus = {
    subscribe: (fn: (e: TandemEvent) => void) => {
      this.listeners.add(fn);
      return () => void this.listeners.delete(fn);
    },
  };
  takeFullSnapshot() {
    this.snapshots++;
    this.publish(META);
    this.publish(FULL);
  }
  onSession(fn: (s: AssistSession) => void) {
    this.sessionFns.push(fn);
    if (this.session) fn(this.session);
    return () => {};
  }
  stopFns: (() => void)[] = [];
  onStop(fn: () => void) {
    this.stopFns.push(fn);
    return () => {};
  }
  /** The site called tracker.stop(). */
  stop() {
    for (const fn of this.stopFns) fn();
  }
  currentPage() {
    return { ...this.page };
  }
  ignoreNetwork(p: string) {
    this.ignored.push(p);
  }
  reportError(err: unknown) {
    this.errors.push(err);
  }
  // ---- test side
  setSession(s: AssistSession) {
    this.session = s;
    for (const fn of this.sessionFns) fn(s);
  }
  publish(type = 3, data?: unknown): TandemEvent {
    const e = ev(this.seq++, type, data);
    for (const fn of this.listeners) fn(e);
    return e;
  }
}
