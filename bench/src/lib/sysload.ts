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

function pidJiffies(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

export function sampleCpu(pids: number[]): CpuSample {
  return { at: performance.now(), busy: procBusy(), pids: Object.fromEntries(pids.map((p) => [p, pidJiffies(p)])) };
}

export interface CpuUse {
  seconds: number;
  /** average cores busy on the whole machine */
  machineCores: number;
  /** average cores used by each watched pid */
  pidCores: Record<number, number>;
  /** machine minus the watched pids */
  otherCores: number;
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
  return { seconds, machineCores: machine, pidCores, otherCores: Math.max(0, machine - own), totalCores: cpus().length };
}

export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}
