/**
 * Result rows: printed next to their target and appended to /BENCHMARKS.md as a markdown table
 * (date, machine, bench, figure, target, met?/gap).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BENCH_ROOT = resolve(REPO_ROOT, 'bench');
export const BENCHMARKS_MD = process.env.TANDEM_BENCHMARKS_MD ?? resolve(REPO_ROOT, 'BENCHMARKS.md');

export interface ResultRow {
  bench: string;
  /** What was measured and its value, e.g. "Tandem/rrweb main-thread time 1.03× (…)". */
  figure: string;
  /** The target from DESIGN.md §10, e.g. "≤ 1.05×". */
  target: string;
  /** true met, false missed, null when not measurable in this run (the gap column says why). */
  met: boolean | null;
  /** How far from the target when missed, or why it is not measured. */
  gap?: string;
}

export function machine(): string {
  const c = cpus();
  const model = (c[0]?.model ?? 'unknown cpu').replace(/\s+/g, ' ').trim();
  return `${model}, ${c.length} cores, Node ${process.version}`;
}

const HEADER = [
  '# Benchmarks',
  '',
  'Appended by `npm run bench` (each bench can also run alone: `node --import tsx bench/src/<name>.ts`).',
  'Targets are from DESIGN.md §10. Ratios compare against a baseline measured in the same run, because the machine is noisy.',
  'See bench/README.md for what each figure measures exactly.',
  '',
  '| date | machine | bench | figure | target | met?/gap |',
  '|---|---|---|---|---|---|',
  '',
].join('\n');

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function metCell(r: ResultRow): string {
  if (r.met === true) return r.gap ? `met (${r.gap})` : 'met';
  if (r.met === false) return `**missed**: ${r.gap ?? ''}`.trim();
  return `not measured: ${r.gap ?? ''}`.trim();
}

export function formatRow(r: ResultRow, date = new Date()): string {
  const d = date.toISOString().replace('T', ' ').slice(0, 16) + 'Z';
  return `| ${d} | ${cell(machine())} | ${cell(r.bench)} | ${cell(r.figure)} | ${cell(r.target)} | ${cell(metCell(r))} |`;
}

/** Prints the rows and appends them to BENCHMARKS.md (creating it with its header when missing). */
export function recordResults(rows: ResultRow[], file = BENCHMARKS_MD): void {
  if (!existsSync(file) || !readFileSync(file, 'utf8').includes('| date | machine |')) {
    writeFileSync(file, HEADER + (existsSync(file) ? readFileSync(file, 'utf8') : ''));
  }
  const now = new Date();
  const lines = rows.map((r) => formatRow(r, now));
  if (!readFileSync(file, 'utf8').endsWith('\n')) appendFileSync(file, '\n');
  appendFileSync(file, lines.join('\n') + '\n');
  console.log('');
  for (const r of rows) {
    const mark = r.met === true ? 'MET   ' : r.met === false ? 'MISSED' : 'N/A   ';
    console.log(`[${mark}] ${r.bench}: ${r.figure}  | target ${r.target}${r.gap ? `  | ${r.gap}` : ''}`);
  }
  console.log(`(appended ${rows.length} row(s) to ${file})`);
}

/** "met" text for a figure that must stay at or under a limit. */
export function atMost(bench: string, figure: string, value: number, limit: number, target: string, unit = ''): ResultRow {
  if (!Number.isFinite(value)) return { bench, figure, target, met: null, gap: 'no value' };
  const met = value <= limit;
  return {
    bench,
    figure,
    target,
    met,
    gap: met ? undefined : `${fmt(value - limit)}${unit} over (${fmt(value / limit)}× the limit)`,
  };
}

/** "met" text for a figure that must reach at least a limit. */
export function atLeast(bench: string, figure: string, value: number, limit: number, target: string, unit = ''): ResultRow {
  if (!Number.isFinite(value)) return { bench, figure, target, met: null, gap: 'no value' };
  const met = value >= limit;
  return {
    bench,
    figure,
    target,
    met,
    gap: met ? undefined : `${fmt(limit - value)}${unit} short (${fmt((value / limit) * 100)}% of the target)`,
  };
}

function fmt(n: number): string {
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
