/** Applies pending migrations to `search_new` of a chDB dir (a copy of the search bench cache) and times them: npx tsx storage/scripts/migrate-dir.ts <dir> */
import { execSync } from 'node:child_process';
import { createChdbDriver, createStore } from '../src/index.js';
const d = createChdbDriver(process.argv[2]);
await d.command('SYSTEM STOP MERGES');
console.log(execSync('uptime').toString().trim());
const t = performance.now();
await createStore(d, { database: 'search_new' }).migrate();
console.log(`migrate ${((performance.now() - t) / 1000).toFixed(1)} s`);
const rows = await d.query('SELECT (SELECT count() FROM search_new.page_keys) AS page_keys, (SELECT count() FROM search_new.event_keys) AS event_keys, (SELECT count() FROM search_new.page_sessions) AS page_sessions, (SELECT count() FROM search_new.event_sessions) AS event_sessions');
console.log(rows, execSync('uptime').toString().trim());
