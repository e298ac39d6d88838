import { createRequire } from 'node:module';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin, type Rollup } from 'vite';
import { rrwebReplayDeadPostcssPlugin } from '../patches/rrweb-replay-dead-postcss.mjs';
import { rrwebReplayUntaintedPlugin } from '../patches/rrweb-replay-untainted-element.mjs';

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

type Bundle = Rollup.OutputBundle;

const EARLY_FRAME = '/src/lib/player/early-frame.ts';
/** The app loads after this long even if a share link's early frame never ran (its chunk failed to load). */
const APP_FALLBACK_MS = 1_500;

/** The app's entry chunks' file names (not the early frame's, an entry of its own loaded on share links only). */
function entryChunks(bundle: Bundle): string[] {
  return Object.values(bundle).filter((c) => c.type === 'chunk' && c.isEntry && !c.facadeModuleId?.endsWith(EARLY_FRAME)).map((c) => c.fileName);
}

/** `from` and every chunk they import statically, with the CSS each imports (file names, in visit order). */
function chunkClosure(bundle: Bundle, from: string[]): Set<string> {
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
}

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
        const loaded = chunkClosure(bundle, entryChunks(bundle));
        const files = [...chunkClosure(bundle, [page.fileName])].filter((f) => !loaded.has(f));
        return [{ tag: 'script', children: `window.__tandemSessionChunks=${JSON.stringify(files.map((f) => `/${f}`))};`, injectTo: 'head-prepend' }];
      },
    },
  };
}

/**
 * A share link's first frame before the app (src/lib/player/early-frame.ts): its chunk is an entry of
 * its own (`input` below), and its URL is given to index.html's inline script, which writes it into the
 * parser on a session link with `t` (so it runs before the app's entry). Its imports are in the session
 * page's preload list (`sessionChunkList`: the page imports it too, the same module instance).
 * Build only: in development the session page builds the first frame itself.
 */
function sessionEarlyFrame(): Plugin {
  return {
    name: 'tandem-session-early-frame',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const bundle = ctx.bundle ?? {};
        const chunk = Object.values(bundle).find((c) => c.type === 'chunk' && !!c.facadeModuleId?.endsWith(EARLY_FRAME));
        if (!chunk) return html;
        // The app's entry script and its modulepreloads (Vite's tags) become one inline script that writes them at
        // the same place, or, when the early frame runs (index.html sets `__tandemEarlyFrame`), keeps them in
        // `__tandemLoadApp` for early-frame.ts to call once the frame is painted (and by itself after
        // APP_FALLBACK_MS, should the early chunk never run), which adds the modulepreloads and the entry then. Not
        // before: compiling the app's chunks while the frame is built took ~20 ms of the renderer's main thread from
        // the frame (docs/decisions.md, "lead (session 15)").
        const entry = /<script type="module" crossorigin src="([^"]+)"><\/script>\s*/.exec(html);
        if (!entry) throw new Error('tandem-session-early-frame: the entry script tag was not found');
        const preloads: string[] = [];
        let out = html.replace(entry[0], '').replace(/<link rel="modulepreload" crossorigin href="([^"]+)">\s*/g, (_m, href: string) => (preloads.push(href), ''));
        const early = [...chunkClosure(bundle, [chunk.fileName])].filter((f) => f.endsWith('.js')).map((f) => `/${f}`);
        const loader =
          `<script>(function(){var a=${JSON.stringify(entry[1])},p=${JSON.stringify(preloads)},done=false;` +
          `function tags(){return p.map(function(h){return '<link rel="modulepreload" crossorigin href="'+h+'">'}).join('')+'<script type="module" crossorigin src="'+a+'"><\\/script>'}` +
          `if(!window.__tandemEarlyFrame){document.write(tags());return}` +
          `window.__tandemLoadApp=function(){if(done)return;done=true;[a].concat(p,window.__tandemLaterChunks||[]).forEach(function(h){var l=document.createElement('link');l.rel='modulepreload';l.crossOrigin='';l.href=h;document.head.appendChild(l)});` +
          `var s=document.createElement('script');s.type='module';s.crossOrigin='';s.src=a;document.head.appendChild(s)};` +
          `setTimeout(window.__tandemLoadApp,${APP_FALLBACK_MS})})()</script>`;
        out = out.replace('</head>', `${loader}\n  </head>`);
        const vars = `window.__tandemEarlyFrameSrc=${JSON.stringify(`/${chunk.fileName}`)};window.__tandemEarlyChunks=${JSON.stringify(early)};`;
        return { html: out, tags: [{ tag: 'script', children: vars, injectTo: 'head-prepend' }] };
      },
    },
  };
}

/**
 * A live view opened in a new tab (`#/live/<id>`): an inline script, first in <head>,
 * - opens the agent's WebSocket to `/socket.io/` at once and keeps what it receives, so the connection,
 *   the upgrade and engine.io's open packet are done while the modules load; the socket.io client
 *   takes it over (lib/live/early-socket.ts), so no main-thread task of the busy starting page sits
 *   between "socket open" and the join any more;
 * - writes the early join's chunk (pages/live/early-join.ts: socket.io and the join, not the app) as a
 *   module script into the parser (document.write): module scripts run in document order, so it runs
 *   right before the app's entry chunk (one ~150 ms task) instead of after it, as the `import()` here
 *   did (its fetch finished a few ms after the entry's, and its evaluation then waited behind the
 *   entry's task and the first layout: ~250 ms later in a trace at load 7).
 * Build only: in development App.svelte starts the early join.
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
        // The chunk and what it imports (JS only), preloaded together (no import-by-import waterfall).
        const files = new Set([...chunkClosure(bundle, [chunk.fileName])].filter((f) => f.endsWith('.js')));
        const list = JSON.stringify([...files].map((f) => `/${f}`));
        // The live page's own chunks (rrweb, the view; JS only) minus what the entry loads itself, for early-join.ts
        // to preload once the join is out (`preloadLivePage`): App.svelte imports them only after the entry's long
        // evaluation. Not from here: ~400 KB more read from the cache at once delayed the early join's own chunk.
        const page = Object.values(bundle).find((c) => c.type === 'chunk' && !!c.facadeModuleId?.endsWith('/pages/live/LivePage.svelte'));
        const entries = chunkClosure(bundle, entryChunks(bundle));
        const pageFiles = page ? [...chunkClosure(bundle, [page.fileName])].filter((f) => f.endsWith('.js') && !entries.has(f) && !files.has(f)) : [];
        const pageList = JSON.stringify(pageFiles.map((f) => `/${f}`));
        // The same test as early-join.ts `liveJoinTarget` (which decides, as the chunk evaluates): a live view only.
        // The URL is the one engine.io-client builds for the page's origin (EIO=4, websocket, default path);
        // early-socket.ts adopts it only if they are equal. Unclaimed after 15 s (the early join's own
        // UNCLAIMED_MS): closed.
        const code =
          `if(/^#\\/live\\/(?!grid\\/?(?:\\?|$))[^/?]/.test(location.hash)&&!/^\\/(watch|embed)\\//.test(location.pathname)){` +
          `try{var u=(location.protocol==='https:'?'wss:':'ws:')+'//'+location.host+'/socket.io/?EIO=4&transport=websocket',w=new WebSocket(u),q=[],m=function(e){q.push(e)};` +
          `w.addEventListener('message',m);window.__tandemEarlySocket={url:u,ws:w,queue:q,stop:function(){w.removeEventListener('message',m)}};` +
          `setTimeout(function(){var s=window.__tandemEarlySocket;if(s&&s.ws===w){delete window.__tandemEarlySocket;w.close()}},15000)}catch(e){}` +
          `${list}.forEach(function(h){var l=document.createElement('link');l.rel='modulepreload';l.crossOrigin='';l.href=h;document.head.appendChild(l)});window.__tandemLiveChunks=${pageList};` +
          // The sign-in check, as the session link's inline script asks it (lib/api/early.ts hands it to the app).
          `try{var r=fetch('/api/v1/auth/me',{credentials:'same-origin',headers:{accept:'application/json'}});r.catch(function(){});(window.__tandemEarly=window.__tandemEarly||{})['/api/v1/auth/me']=r}catch(e){}` +
          `document.write('<script type="module" crossorigin src="/${chunk.fileName}"><\\/script>')}`;
        return [{ tag: 'script', children: code, injectTo: 'head-prepend' }];
      },
    },
  };
}

export default defineConfig({
  // @rrweb/replay without its hidden iframe per page (patches/README.md).
  plugins: [rrwebReplayUntaintedPlugin(), rrwebReplayDeadPostcssPlugin(), svelte(), sessionChunkList(), sessionEarlyFrame(), liveEarlyJoin()],
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
    rolldownOptions: {
      input: { index: new URL('index.html', import.meta.url).pathname, 'early-frame': new URL(`.${EARLY_FRAME}`, import.meta.url).pathname },
      output: {
        // Vite's helper that wraps every `import()` (it preloads the imported chunk's dependencies) in
        // a chunk of its own: left to itself the bundler put it in the app's entry chunk, and the early
        // join's `import()` of the WebRTC mesh (early-join.ts) then made that small chunk wait for the
        // whole entry (one ~150 ms task) before it could join.
        codeSplitting: { groups: [{ name: 'preload-helper', test: /vite\/preload-helper/ }] },
      },
    },
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
