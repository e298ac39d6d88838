import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The backend serves dist/ at `/` and its assets under `/assets/`; in development the Vite server
// forwards everything the dashboard talks to (API, ingest, tracker, demo site) to a local backend.
// `base: '/'` keeps asset URLs absolute (`/assets/...`): the same index.html is served at `/watch/<token>`
// and `/embed/<token>`, where relative URLs would resolve under those paths.
const backend = process.env.TANDEM_BACKEND ?? 'http://127.0.0.1:4300';

export default defineConfig({
  plugins: [svelte()],
  base: '/',
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
