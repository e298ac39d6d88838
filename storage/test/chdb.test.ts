import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/index.js';
import { storeContract } from './store-contract.js';

// One temporary data directory for this file: chDB opens one directory per process.
const dir = mkdtempSync(join(tmpdir(), 'tandem-storage-'));

storeContract('embedded chDB', () => ({
  database: 'tandem',
  open: () => openStore({ dataDir: dir, maxDelayMs: 20 }),
  destroy: async () => rmSync(dir, { recursive: true, force: true }),
}));
