/** Prints the rows of SQL statements (e.g. EXPLAIN indexes = 1) over a chDB dir: npx tsx storage/scripts/explain.ts <dir> <file, statements separated by ;;> */
import { readFileSync } from 'node:fs';
import { createChdbDriver } from '../src/index.js';
const d = createChdbDriver(process.argv[2]);
await d.command('SYSTEM STOP MERGES');
for (const s of readFileSync(process.argv[3], 'utf8').split(';;')) console.log((await d.query<Record<string, unknown>>(s)).map((r) => Object.values(r).join(' ')).join('\n'));
