// Node globals simple-peer (and readable-stream under it) expect, for the /tracker-rtc.js bundle:
// esbuild's `inject` puts these where the code names `process` or `Buffer` (DESIGN.md §8).
import process from 'process/browser.js';
import { Buffer } from 'buffer';

export { process, Buffer };
