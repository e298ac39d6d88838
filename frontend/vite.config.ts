import { createRequire } from 'node:module';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

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

/**
 * The session page's chunks (its JS, what it imports, their CSS), listed in index.html as
 * `window.__tandemSessionChunks` so the inline script there preloads them at once on a session link:
 * the app's own `import()` of the page only runs once the entry chunk has been evaluated, and the
 * player (rrweb) is most of the JS a shared moment needs. Build only (dev serves modules unbundled).
 */
function sessionChunkList(): Plugin {
  return {
    name: 'tandem-session-chunks',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return [];
        const page = Object.values(bundle).find((c) => c.type === 'chunk' && !!c.facadeModuleId?.endsWith('/pages/session/SessionPage.svelte'));
        if (!page || page.type !== 'chunk') return [];
        // What the entry loads itself (its static imports and their CSS) is already in the page.
        const closure = (from: string[]) => {
          const files = new Set<string>();
          const visit = (fileName: string) => {
            const chunk = bundle[fileName];
            if (!chunk || chunk.type !== 'chunk' || files.has(fileName)) return;
            files.add(fileName);
            for (const css of chunk.viteMetadata?.importedCss ?? []) files.add(css);
            chunk.imports.forEach(visit);
          };
          from.forEach(visit);
          return files;
        };
        const entries = Object.values(bundle).filter((c) => c.type === 'chunk' && c.isEntry).map((c) => c.fileName);
        const loaded = closure(entries);
        const files = [...closure([page.fileName])].filter((f) => !loaded.has(f));
        return [{ tag: 'script', children: `window.__tandemSessionChunks=${JSON.stringify(files.map((f) => `/${f}`))};`, injectTo: 'head-prepend' }];
      },
    },
  };
}

/**
 * A live view opened in a new tab (`#/live/<id>`): an inline script imports the early join's chunk
 * (pages/live/early-join.ts: socket.io and the join, not the app) as the page starts, so its socket
 * opens while the app's entry chunk loads and evaluates rather than after (App.svelte's own start of
 * it waits for that). Build only: in development App.svelte starts it.
 */
function liveEarlyJoin(): Plugin {
  return {
    name: 'tandem-live-early-join',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle ?? {};
        const chunk = Object.values(bundle).find((c) => c.type === 'chunk' && !!c.facadeModuleId?.endsWith('/pages/live/early-join.ts'));
        if (!chunk || chunk.type !== 'chunk') return [];
        // The chunk and what it imports, preloaded together (no import-by-import waterfall).
        const files = new Set<string>();
        const visit = (fileName: string) => {
          const c = bundle[fileName];
          if (!c || c.type !== 'chunk' || files.has(fileName)) return;
          files.add(fileName);
          c.imports.forEach(visit);
        };
        visit(chunk.fileName);
        const list = JSON.stringify([...files].map((f) => `/${f}`));
        // The same test as early-join.ts `liveJoinTarget` (which decides, as the chunk evaluates): a live view only.
        // First in <head>: the chunk's fetch starts before the entry's, so it can run before the entry's long evaluation.
        const code =
          `if(/^#\\/live\\/(?!grid\\/?(?:\\?|$))[^/?]/.test(location.hash)&&!/^\\/(watch|embed)\\//.test(location.pathname)){` +
          `${list}.forEach(function(h){var l=document.createElement('link');l.rel='modulepreload';l.crossOrigin='';l.href=h;document.head.appendChild(l)});` +
          `import(${JSON.stringify(`/${chunk.fileName}`)}).catch(function(){})}`;
        return [{ tag: 'script', children: code, injectTo: 'head-prepend' }];
      },
    },
  };
}

export default defineConfig({
  plugins: [svelte(), sessionChunkList(), liveEarlyJoin()],
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
