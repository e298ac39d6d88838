// Builds the tracker:
// - dist/tandem.iife.js: minified script-tag build (served by the backend as /tracker.js)
// - dist/index.js: ES module of the Tracker class for bundlers
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const here = new URL('.', import.meta.url).pathname;
// ES2020 keeps native async/await and classes (no helper code) and still runs on every browser
// that has the APIs we rely on anyway.
const target = ['es2020'];

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
});

await build({
  entryPoints: [here + 'src/index.ts'],
  outfile: here + 'dist/index.js',
  bundle: true,
  format: 'esm',
  sourcemap: true,
  target,
  logLevel: 'warning',
});

const iife = readFileSync(here + 'dist/tandem.iife.js');
console.log(`tracker: dist/tandem.iife.js ${(iife.length / 1024).toFixed(1)} KB raw, ${(gzipSync(iife, { level: 9 }).length / 1024).toFixed(1)} KB gzip`);

// What the live assist plugin adds (its own code + socket.io-client and its engine), minified bytes.
const LIVE = /(assist-plugin\/|node_modules\/(socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io\/))/;
let live = 0;
for (const out of Object.values(iifeBuild.metafile.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) if (LIVE.test(input)) live += bytesInOutput;
}
console.log(`tracker: of which live assist (plugin + socket.io-client) ${(live / 1024).toFixed(1)} KB raw`);
