/**
 * CPU accounting from /proc (Linux): how busy the whole machine was during a measurement, and how much of
 * that was a given process. The machine is shared, so results say how much CPU others took meanwhile.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const HZ = 100; // USER_HZ on Linux

export interface CpuSample {
  at: number;
  /** busy jiffies of all CPUs (user+nice+system+irq+softirq+steal) */
  busy: number;
  /** jiffies of each watched pid (utime+stime) */
  pids: Record<number, number>;
  /** jiffies of the main thread (tid = pid) of some pids */
  mainThreads: Record<number, number>;
  /** schedstat of those main threads: [ns on a CPU, ns runnable but waiting for a CPU] */
  mainSched: Record<number, [number, number]>;
}

function schedstat(pid: number): [number, number] {
  try {
    const f = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return [f[0], f[1]];
  } catch {
    return [NaN, NaN];
  }
}

function procBusy(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
  } catch {
    return NaN;
  }
}

function pidJiffies(pid: number, path = `/proc/${pid}/stat`): number {
  try {
    const s = readFileSync(path, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

export function sampleCpu(pids: number[], mainThreadsOf: number[] = []): CpuSample {
  return {
    at: performance.now(),
    busy: procBusy(),
    pids: Object.fromEntries(pids.map((p) => [p, pidJiffies(p)])),
    mainThreads: Object.fromEntries(mainThreadsOf.map((p) => [p, pidJiffies(p, `/proc/${p}/task/${p}/stat`)])),
    mainSched: Object.fromEntries(mainThreadsOf.map((p) => [p, schedstat(p)])),
  };
}

export interface CpuUse {
  seconds: number;
  /** average cores busy on the whole machine */
  machineCores: number;
  /** average cores used by each watched pid */
  pidCores: Record<number, number>;
  /** machine minus the watched pids */
  otherCores: number;
  /** average cores used by the main thread of some pids */
  mainThreadCores: Record<number, number>;
  /** share of wall time the main thread was runnable but waiting for a CPU (run-queue delay) */
  mainThreadWaitShare: Record<number, number>;
  totalCores: number;
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  const cores = (j: number) => j / HZ / seconds;
  const pidCores: Record<number, number> = {};
  let own = 0;
  for (const p of Object.keys(b.pids).map(Number)) {
    pidCores[p] = cores(b.pids[p] - a.pids[p]);
    own += pidCores[p];
  }
  const machine = cores(b.busy - a.busy);
  const mainThreadCores: Record<number, number> = {};
  const mainThreadWaitShare: Record<number, number> = {};
  for (const p of Object.keys(b.mainThreads).map(Number)) {
    mainThreadCores[p] = cores(b.mainThreads[p] - a.mainThreads[p]);
    mainThreadWaitShare[p] = (b.mainSched[p][1] - a.mainSched[p][1]) / 1e9 / seconds;
  }
  return {
    mainThreadWaitShare, seconds, machineCores: machine, pidCores, otherCores: Math.max(0, machine - own), totalCores: cpus().length, mainThreadCores };
}

export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
