/**
 * Which packing version to send (pack-source.ts has the packing itself, which only the compression worker
 * runs): kept apart so /tracker.js does not carry the packing's source, which comes with the idle chunk.
 */

/**
 * The newest packing this tracker does: 2 is 1 without the envelope's sessionId and tabId (the server reads
 * them from the session token) and zlib instead of gzip around it (12 bytes less per batch); see
 * backend/src/ingest/unpack.ts. On the bytes bench's minute: 0.101× → 0.096× of the raw JSON.
 */
export const PACK_MAX_VERSION = 2;

/** The version to send to a server whose start answer says `config.pack` (the newest both sides know; 0: none). */
export function packVersionFor(serverPack: unknown): number {
  return typeof serverPack === 'number' && serverPack >= 1 ? Math.min(Math.floor(serverPack), PACK_MAX_VERSION) : 0;
}
