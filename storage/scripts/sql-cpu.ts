/** CPU ms of SQL statements over a chDB dir, interleaved: npx tsx storage/scripts/sql-cpu.ts <dir> <file with statements separated by ;;> [reps] */
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createChdbDriver } from '../src/index.js';
const [dir, file] = process.argv.slice(2);
const reps = Number(process.argv[4] ?? 3);
const d = createChdbDriver(dir);
await d.command('SYSTEM STOP MERGES'); // every table: background merges would count in the process's CPU
const stmts = readFileSync(file, 'utf8').split(';;').map((s) => s.trim()).filter(Boolean);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
console.log(execSync('uptime').toString().trim());
const res: number[][] = stmts.map(() => []);
for (let r = 0; r < reps; r++) for (const [i, s] of stmts.entries()) {
  const c = cpu();
  const rows = await d.query<Record<string, unknown>>(s);
  res[i].push(cpu() - c);
  if (r === 0) console.log(`#${i} rows ${rows.length} first ${JSON.stringify(rows[0] ?? null).slice(0, 200)}`);
}
for (const [i, t] of res.entries()) console.log(`#${i} cpu ${t.map((x) => x.toFixed(0)).join(' ')}`);
console.log(execSync('uptime').toString().trim());
