import { describe, expect, it } from 'vitest';
import { Guard } from '../src/guard.js';

describe('Guard (the browser SDKs never throw into the page)', () => {
  it('swallows a throw, reports each kind of failure once, with where it happened', () => {
    const seen: [unknown, string][] = [];
    const g = new Guard((err, where) => seen.push([err, where]));
    const boom = new Error('boom');
    expect(g.run('flush', () => { throw boom; })).toBeUndefined();
    expect(g.run('flush', () => { throw new Error('again'); })).toBeUndefined();
    expect(g.run('snapshot', () => { throw boom; })).toBeUndefined();
    expect(g.run('ok', () => 42)).toBe(42);
    expect(seen).toEqual([[boom, 'flush'], [boom, 'snapshot']]);
  });

  it('survives a hook that throws (the fallback is the console.debug captured at load) and still reports once', () => {
    let calls = 0;
    const g = new Guard(() => {
      calls++;
      throw new Error('hook broke');
    }, 'tandem assist');
    expect(() => g.report(new Error('x'), 'where-1')).not.toThrow();
    expect(() => g.report(new Error('x'), 'where-1')).not.toThrow();
    expect(calls).toBe(1);
    expect(() => new Guard(undefined).report(new Error('y'), 'where-2')).not.toThrow();
  });

  it('wrap keeps `this` and arguments, and never throws', () => {
    const g = new Guard(() => {});
    const obj = { n: 2, f: g.wrap('f', function (this: { n: number }, x: number) { return this.n * x; }) };
    expect(obj.f(21)).toBe(42);
    expect(g.wrap('bad', () => { throw new Error('no'); })()).toBeUndefined();
  });
});
