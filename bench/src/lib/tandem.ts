/**
 * The Tandem tracker inside a bench page: where its ingest points (the real backend when it starts,
 * else the fixture server's accept-and-discard endpoint) and how the page starts it.
 */
import type { FixtureServer } from './server.js';
import type { VariantDriver } from './variant.js';
import { startBenchBackend, type BenchBackend } from './backend.js';

export interface TandemIngest {
  /** "real backend at http://…" or "discard endpoint …" (printed with the results) */
  describe: string;
  kind: 'backend' | 'discard';
  ingestUrl: string;
  projectKey: string;
  flushIntervalMs: number;
  /** rrweb options the tracker records with, when the tracker exposes them */
  recordOptions?: Record<string, unknown>;
  backend?: BenchBackend;
  variant(server: FixtureServer): VariantDriver;
  close(): Promise<void>;
}

export async function startTandemIngest(server: FixtureServer, opts: { requireBackend?: boolean } = {}): Promise<TandemIngest> {
  let backend: BenchBackend | undefined;
  let why = '';
  try {
    backend = await startBenchBackend();
  } catch (err) {
    why = (err as Error).message;
    if (opts.requireBackend) throw err;
  }
  const ingestUrl = backend ? backend.url : server.url;
  const projectKey = backend ? backend.projectKey : 'discard-project-key';
  return {
    describe: backend
      ? `real backend (startServer) at ${backend.url}, temp dataDir`
      : `accept-and-discard endpoint on the fixture server (${why})`,
    kind: backend ? 'backend' : 'discard',
    ingestUrl,
    projectKey,
    flushIntervalMs: 2000,
    backend,
    variant: () => {
      throw new Error('Tandem tracker page driver not written yet');
    },
    async close() {
      await backend?.close();
    },
  };
}
