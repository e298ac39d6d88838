import { createRequire } from 'node:module';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The backend serves dist/ at `/` and its assets under `/assets/`; in development the Vite server
// forwards everything the dashboard talks to (API, ingest, tracker, demo site) to a local backend.
// `base: '/'` keeps asset URLs absolute (`/assets/...`): the same index.html is served at `/watch/<token>`
// and `/embed/<token>`, where relative URLs would resolve under those paths.
const backend = process.env.TANDEM_BACKEND ?? 'http://127.0.0.1:4300';

// simple-peer (live assist's WebRTC) is a Node-style package: it and readable-stream require `events`,
// `buffer` and `process`, and read `global`. Vite would turn those Node built-ins into empty stubs, so
// they point at their browser ports (npm `events`, `buffer`, `process`); `global` is `globalThis`, and
// `process`/`Buffer` themselves are set on globalThis by src/lib/assist/shims.ts before simple-peer loads.
const require = createRequire(import.meta.url);
const shims = {
  events: require.resolve('events/'),
  buffer: require.resolve('buffer/'),
  process: require.resolve('process/browser.js'),
};

export default defineConfig({
  plugins: [svelte()],
  base: '/',
  resolve: {
    alias: shims,
  },
  define: {
    global: 'globalThis',
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    port: 5173,
    proxy: {
      '/api': backend,
      '/ingest': backend,
      '/tracker.js': backend,
      '/demo': backend,
      // live pages: socket.io (WebSocket upgrade included); /watch and /embed are served by Vite's SPA fallback
      '/socket.io': { target: backend, ws: true },
    },
  },
});
