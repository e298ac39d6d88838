/**
 * Chromium CPU profiles (CDP `Profiler`) for benches that ask where a page's main-thread time goes:
 * self time per function, summed over profiles, so two recorders' profiles can be compared line by line.
 */
import type { CDPSession } from 'playwright-core';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time (ms) per function key `name (file:line:col)`. */
export type SelfTimes = Map<string, number>;

/** Starts sampling every 100 µs (the default 1 ms misses most of a 20 ms callback's detail). */
export async function startProfile(cdp: CDPSession): Promise<void> {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
}

export async function stopProfile(cdp: CDPSession): Promise<CpuProfile> {
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
  await cdp.send('Profiler.disable');
  return profile;
}

function keyOf(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url ? f.url.slice(f.url.lastIndexOf('/') + 1) : '';
  return `${f.functionName || '(anonymous)'}${file ? ` (${file}:${f.lineNumber + 1}:${f.columnNumber + 1})` : ''}`;
}

/** Adds one profile's self times into `into` (ms). */
export function addSelfTimes(profile: CpuProfile, into: SelfTimes): SelfTimes {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i]);
    if (!n) continue;
    // A sample's time is the delta to the next sample.
    const dt = (deltas[i + 1] ?? 0) / 1000;
    const k = keyOf(n);
    into.set(k, (into.get(k) ?? 0) + dt);
  }
  return into;
}

/** Total time (ms) per function including callees (a function counted once per sample, recursion or not). */
export function addTotalTimes(profile: CpuProfile, into: SelfTimes): SelfTimes {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000;
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id);
      if (!n) break;
      const k = keyOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      into.set(k, (into.get(k) ?? 0) + dt);
    }
  }
  return into;
}

export function topEntries(times: SelfTimes, n: number, scale = 1): string[] {
  return [...times.entries()]
    .filter(([k]) => k !== '(idle)' && k !== '(program)' && k !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${(v * scale).toFixed(2).padStart(8)} ms  ${k}`);
}
