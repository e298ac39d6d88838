/**
 * Starts the real Tandem backend in this process (startServer from @tandem/backend) with a temp data
 * directory, or explains why it cannot yet (the package may still be under construction).
 */
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { TMP_DIR } from './bundles.js';

export interface BenchBackend {
  url: string;
  port: number;
  projectKey: string;
  projectId?: string;
  dataDir: string;
  // The store's public surface as the storage package declares it; typed loosely so this file compiles
  // while storage is being written.
  store: any;
  close(): Promise<void>;
}

export async function startBenchBackend(overrides: Record<string, unknown> = {}, keepDir = false): Promise<BenchBackend> {
  mkdirSync(TMP_DIR, { recursive: true });
  const dataDir = mkdtempSync(resolve(TMP_DIR, 'data-'));
  let mod: any;
  try {
    mod = await import('@tandem/backend');
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`@tandem/backend cannot be loaded yet: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
  }
  if (typeof mod.startServer !== 'function') {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error('@tandem/backend does not export startServer yet');
  }
  let server: any;
  try {
    server = await mod.startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      projectKey: 'bench-project-key',
      adminEmail: 'bench@example.com',
      adminPassword: 'bench-password-123',
      logLevel: 'warn',
      demo: false,
      ...overrides,
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`startServer failed: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
  }
  let projectId: string | undefined = server.projectId;
  if (!projectId) projectId = (await server.store.getProjectByKey(server.projectKey))?.id;
  return {
    url: server.url,
    port: server.port,
    projectKey: server.projectKey,
    projectId,
    dataDir,
    store: server.store,
    async close() {
      await server.close();
      if (!keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
