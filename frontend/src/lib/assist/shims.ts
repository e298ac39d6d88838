/**
 * simple-peer and readable-stream expect Node's `process` and `Buffer` as globals. Imported before
 * simple-peer (ES modules run in import order) by peers.ts; vite.config.ts points the `events`,
 * `buffer` and `process` imports at their browser ports and `global` at `globalThis`.
 */
import { Buffer } from 'buffer';
import process from 'process';

const scope = globalThis as unknown as { process?: unknown; Buffer?: unknown };
scope.process ??= process;
scope.Buffer ??= Buffer;
