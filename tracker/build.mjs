// Builds the tracker, three chunks served by the backend plus an ES module:
// - dist/tandem-rtc.js: the assist plugin's WebRTC chunk (calls, canvas video, control, drawing,
//   recording prompts, simple-peer), served as /tracker-rtc.js and loaded only when first needed
// - dist/tandem-assist.js: the live assist plugin with its socket.io client, served as
//   /tracker-assist.js and loaded by /tracker.js when the page is idle after the first snapshot
// - dist/tandem-gzip.js: fflate's synchronous gzip for the pagehide path, served as /tracker-gzip.js and
//   loaded by /tracker.js when the page is idle after the first snapshot (src/gzip-sync.ts)
// - dist/tandem.iife.js: minified script-tag build (served by the backend as /tracker.js)
// - dist/index.js: ES module of the Tracker class for bundlers (loads the same chunks from the server)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { compressFile } from '../scripts/compress-static.mjs';
import { rrwebSelectorMemoPlugin } from '../patches/rrweb-record-selector-memo.mjs';

const here = new URL('.', import.meta.url).pathname;
const pluginDir = new URL('../assist-plugin/', import.meta.url).pathname;
// ES2020 keeps native async/await and classes (no helper code) and still runs on every browser
// that has the APIs we rely on anyway.
const target = ['es2020'];

/** A minified script-tag bundle (the three chunks and /tracker.js share every option but these). */
const scriptBundle = (entry, outfile, options = {}) =>
  build({
    entryPoints: [entry],
    outfile: here + outfile,
    bundle: true,
    format: 'iife',
    minify: true,
    sourcemap: true,
    target,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // @rrweb/record with the mask/block memo for mutation batches (patches/README.md).
    plugins: [rrwebSelectorMemoPlugin()],
    ...options,
  });
// Each chunk is asked for as <name>.js?v=<hash of its content>: a cached chunk of another build is never used.
const versionOf = (file) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);

await scriptBundle(pluginDir + 'src/rtc/chunk.ts', 'dist/tandem-rtc.js', {
  // simple-peer is written for Node streams: `process`, `Buffer` and `global` are shimmed (DESIGN.md §8).
  inject: [pluginDir + 'src/rtc/shims.js'],
  define: { global: 'globalThis' },
});
const rtcVersion = versionOf(here + 'dist/tandem-rtc.js');

const assistBuild = await scriptBundle(pluginDir + 'src/assist-chunk.ts', 'dist/tandem-assist.js', {
  define: { __TANDEM_RTC_VERSION__: JSON.stringify(rtcVersion) },
});
const assistVersion = versionOf(here + 'dist/tandem-assist.js');

await scriptBundle(here + 'src/gzip-chunk.ts', 'dist/tandem-gzip.js');
const gzipVersion = versionOf(here + 'dist/tandem-gzip.js');
const define = {
  __TANDEM_RTC_VERSION__: JSON.stringify(rtcVersion),
  __TANDEM_ASSIST_VERSION__: JSON.stringify(assistVersion),
  __TANDEM_GZIP_VERSION__: JSON.stringify(gzipVersion),
};

const iifeBuild = await scriptBundle(here + 'src/snippet.ts', 'dist/tandem.iife.js', { define });

await build({
  entryPoints: [here + 'src/index.ts'],
  outfile: here + 'dist/index.js',
  bundle: true,
  format: 'esm',
  sourcemap: true,
  target,
  logLevel: 'warning',
  define,
  metafile: true,
  plugins: [rrwebSelectorMemoPlugin()],
});

// .br/.gz beside the files the backend serves (/tracker.js, /tracker-assist.js, /tracker-gzip.js, /tracker-rtc.js),
// picked by the request's Accept-Encoding; the ES module and source maps are for bundlers and debuggers, not served.
for (const f of ['tandem.iife.js', 'tandem-assist.js', 'tandem-gzip.js', 'tandem-rtc.js']) compressFile(here + 'dist/' + f);

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sizeOf = (file) => (existsSync(file) ? kb(statSync(file).size) : 'none');
const sizes = (file) => `${sizeOf(file)} raw, ${sizeOf(file + '.gz')} gzip, ${sizeOf(file + '.br')} brotli`;
console.log(`tracker: dist/tandem.iife.js (/tracker.js) ${sizes(here + 'dist/tandem.iife.js')}`);
console.log(`tracker: dist/tandem-assist.js (/tracker-assist.js, at idle) ${sizes(here + 'dist/tandem-assist.js')}, version ${assistVersion}`);
console.log(`tracker: dist/tandem-gzip.js (/tracker-gzip.js, at idle) ${sizes(here + 'dist/tandem-gzip.js')}, version ${gzipVersion}`);
console.log(`tracker: dist/tandem-rtc.js (/tracker-rtc.js, lazy) ${sizes(here + 'dist/tandem-rtc.js')}, version ${rtcVersion}`);

const inputsOf = (result) => Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
/** Fails the build when a chunk's code leaks into an earlier chunk (each leak costs every page load). */
function keepOut(result, pattern, what, where) {
  const leaked = inputsOf(result).map(([input]) => input).filter((i) => pattern.test(i));
  if (leaked.length) throw new Error(`${what} leaked into ${where}: ${leaked.join(', ')}`);
}
// WebRTC code only in /tracker-rtc.js; the plugin's socket.io client and wiring only in /tracker-assist.js.
const RTC_ONLY = /(assist-plugin\/src\/rtc\/|node_modules\/(simple-peer|readable-stream|get-browser-rtc)\/)/;
const ASSIST_ONLY =
  /(assist-plugin\/src\/(plugin|forwarder|viewing|page-info|clock|handshake|retry|ui|rtc-bridge)\.ts|node_modules\/(socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io\/))/;
keepOut(iifeBuild, RTC_ONLY, 'WebRTC chunk code', '/tracker.js');
keepOut(assistBuild, RTC_ONLY, 'WebRTC chunk code', '/tracker-assist.js');
keepOut(iifeBuild, ASSIST_ONLY, 'The assist chunk (plugin, socket.io-client)', '/tracker.js');
keepOut(iifeBuild, /node_modules\/fflate\//, 'fflate (the gzip chunk)', '/tracker.js');

// Bundle analysis of the first script (what every page pays for): the biggest inputs, minified bytes.
const byPackage = new Map();
for (const [input, { bytesInOutput }] of inputsOf(iifeBuild)) {
  const nm = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  const key = nm ? nm[1] : input.replace(/^(\.\.\/)+/, '');
  byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
}
const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8);
console.log(`tracker: /tracker.js biggest inputs (raw, minified): ${top.map(([k, b]) => `${k} ${kb(b)}`).join(', ')}`);
