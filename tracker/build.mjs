// Builds the tracker:
// - dist/tandem-rtc.js: the assist plugin's WebRTC chunk (calls, canvas video, control, drawing,
//   recording prompts, simple-peer), served as /tracker-rtc.js and loaded only when first needed
// - dist/tandem.iife.js: minified script-tag build (served by the backend as /tracker.js)
// - dist/index.js: ES module of the Tracker class for bundlers (loads the same chunk from the server)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { compressFile } from '../scripts/compress-static.mjs';

const here = new URL('.', import.meta.url).pathname;
const pluginDir = new URL('../assist-plugin/', import.meta.url).pathname;
// ES2020 keeps native async/await and classes (no helper code) and still runs on every browser
// that has the APIs we rely on anyway.
const target = ['es2020'];

const rtcBuild = await build({
  entryPoints: [pluginDir + 'src/rtc/chunk.ts'],
  outfile: here + 'dist/tandem-rtc.js',
  bundle: true,
  format: 'iife',
  minify: true,
  sourcemap: true,
  target,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // simple-peer is written for Node streams: `process`, `Buffer` and `global` are shimmed (DESIGN.md §8).
  inject: [pluginDir + 'src/rtc/shims.js'],
  define: { global: 'globalThis' },
});
const rtc = readFileSync(here + 'dist/tandem-rtc.js');
// The core asks for /tracker-rtc.js?v=<hash>: a cached chunk of another build is never used with this tracker.
const rtcVersion = createHash('sha256').update(rtc).digest('hex').slice(0, 12);
const define = { __TANDEM_RTC_VERSION__: JSON.stringify(rtcVersion) };

const iifeBuild = await build({
  entryPoints: [here + 'src/snippet.ts'],
  outfile: here + 'dist/tandem.iife.js',
  bundle: true,
  format: 'iife',
  minify: true,
  sourcemap: true,
  target,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  define,
});

await build({
  entryPoints: [here + 'src/index.ts'],
  outfile: here + 'dist/index.js',
  bundle: true,
  format: 'esm',
  sourcemap: true,
  target,
  logLevel: 'warning',
  define,
});

// .br/.gz beside the two files the backend serves (/tracker.js, /tracker-rtc.js), picked by the
// request's Accept-Encoding; the ES module and source maps are for bundlers and debuggers, not served.
for (const f of ['tandem.iife.js', 'tandem-rtc.js']) compressFile(here + 'dist/' + f);

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sizeOf = (file) => (existsSync(file) ? kb(statSync(file).size) : 'none');
const sizes = (file) => `${sizeOf(file)} raw, ${sizeOf(file + '.gz')} gzip, ${sizeOf(file + '.br')} brotli`;
console.log(`tracker: dist/tandem.iife.js (/tracker.js) ${sizes(here + 'dist/tandem.iife.js')}`);
console.log(`tracker: dist/tandem-rtc.js (/tracker-rtc.js, lazy) ${sizes(here + 'dist/tandem-rtc.js')}, version ${rtcVersion}`);

// The chunk must stay out of /tracker.js: no module of it, and no simple-peer, may be in the IIFE.
const RTC_ONLY = /(assist-plugin\/src\/rtc\/|node_modules\/(simple-peer|readable-stream|get-browser-rtc)\/)/;
const leaked = Object.values(iifeBuild.metafile.outputs).flatMap((o) => Object.keys(o.inputs)).filter((i) => RTC_ONLY.test(i));
if (leaked.length) throw new Error(`WebRTC chunk code leaked into /tracker.js: ${leaked.join(', ')}`);
void rtcBuild;

// What the live assist plugin adds (its own code + socket.io-client and its engine), minified bytes.
const LIVE = /(assist-plugin\/|node_modules\/(socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io\/))/;
let live = 0;
for (const out of Object.values(iifeBuild.metafile.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) if (LIVE.test(input)) live += bytesInOutput;
}
console.log(`tracker: of which live assist (plugin + socket.io-client) ${(live / 1024).toFixed(1)} KB raw`);
