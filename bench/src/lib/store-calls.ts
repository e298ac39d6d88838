/**
 * Times every method call of a store object (the bench backend's TandemStore) in place: start, and end when its
 * promise settles or its async iterator finishes (or is returned early). For the seek-open-* tools, which line
 * a page's open up with what the server's storage was doing meanwhile.
 */
export interface StoreCall { name: string; start: number; end: number | null; elu?: number }

export function timeStoreCalls(store: any, calls: StoreCall[]): void {
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store)).concat(Object.keys(store))) {
    const fn = store[name];
    if (typeof fn !== 'function' || name === 'constructor') continue;
    store[name] = function (this: unknown, ...args: unknown[]) {
      const call: StoreCall = { name, start: performance.now(), end: null };
      calls.push(call);
      const out = fn.apply(this, args) as any;
      const done = () => (call.end = performance.now());
      if (out && typeof out.then === 'function') out.then(done, done);
      else if (out && typeof out[Symbol.asyncIterator] === 'function') {
        const it = out[Symbol.asyncIterator]();
        return {
          [Symbol.asyncIterator]: () => ({
            next: async (...a: unknown[]) => { const r = await it.next(...a); if (r.done) done(); return r; },
            return: async (v: unknown) => { done(); return it.return ? it.return(v) : { done: true, value: v }; },
          }),
        };
      } else done();
      return out;
    };
  }
}
