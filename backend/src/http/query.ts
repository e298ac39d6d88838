import { z } from 'zod';
import { TandemError } from '@tandem/protocol';

/**
 * Query strings validated by zod object schemas (the same schemas the OpenAPI document shows).
 * Values arrive as strings: number fields use `z.coerce`, and an empty value (`?tabId=`) counts as absent,
 * as a form would send it. Messages of these schemas name their parameter themselves, so they are
 * reported as they are.
 */

export interface QueryOptions {
  /**
   * Refuse parameters the schema does not know, and any given twice: a typo (`userid=`) would otherwise
   * silently widen a search. Routes that long took extra parameters (cache busters) stay lenient.
   */
  strict?: boolean;
}

export function parseQuery<S extends z.ZodObject>(q: URLSearchParams, schema: S, opts: QueryOptions = {}): z.output<S> {
  const known = Object.keys(schema.shape);
  const raw: Record<string, string> = {};
  for (const name of new Set(q.keys())) {
    if (opts.strict) {
      if (!known.includes(name)) throw bad(`Unknown parameter ${name}; known: ${known.join(', ')}`);
      if (q.getAll(name).length > 1) throw bad(`${name} is given more than once`);
    }
    const value = q.get(name)!;
    if (value !== '' && known.includes(name)) raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw bad(parsed.error.issues.slice(0, 3).map((i) => i.message).join('; '));
  return parsed.data;
}

function bad(message: string): TandemError {
  return new TandemError('bad_request', message);
}

/**
 * A query value read as a number. Not `z.coerce`: that also turns null into 0, which the OpenAPI
 * generator then reports as a nullable parameter.
 */
const asNumber = (v: unknown) => (typeof v === 'string' ? Number(v) : v);

/** A number parameter whose message names it: `fromTs must be a number (epoch milliseconds)`. */
export function queryNumber(name: string, what: string, check: (n: z.ZodNumber) => z.ZodNumber = (n) => n) {
  return z.preprocess(asNumber, check(z.number({ error: `${name} must be a number (${what})` })));
}

/** A number parameter within bounds: `from must be between 946684800000 and ... (epoch milliseconds)`. */
export function queryRange(name: string, min: number, max: number, what: string, opts: { int?: boolean } = {}) {
  const range = `${name} must be between ${min} and ${max} (${what})`;
  return queryNumber(name, what, (n) => {
    const bounded = n.min(min, range).max(max, range);
    return opts.int ? bounded.int(`${name} must be a whole number (${what})`) : bounded;
  });
}
