import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Proxied assets on disk, by content hash: `blobs/<sha256>` holds the bytes once however many URLs
 * (or sessions) share them, `entries/<sha256 of the URL>.json` maps a URL to its blob. The total size
 * of the blobs is bounded: past `maxBytes` the least recently used entries go first. Entries unused
 * for `retentionMs` (the sessions' retention) are dropped by a periodic sweep: no retained session
 * has asked for them in that long.
 */

export interface CacheEntry {
  url: string;
  /** Where the last redirect landed: relative `url()`s in a stylesheet resolve against it. */
  finalUrl: string;
  hash: string;
  contentType: string;
  size: number;
  /** When it was fetched (ms): older than the freshness window, the proxy fetches it again. */
  storedAt: number;
}

interface Indexed extends CacheEntry {
  lastUsed: number;
}

export interface AssetCacheOptions {
  dir: string;
  maxBytes: number;
  retentionMs: number;
  now?: () => number;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export class AssetCache {
  private readonly entries = new Map<string, Indexed>();
  /** blob hash → how many entries point at it */
  private readonly blobRefs = new Map<string, { size: number; refs: number }>();
  private total = 0;
  private loaded: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: AssetCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get totalBytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  private blobPath(hash: string) {
    return path.join(this.opts.dir, 'blobs', hash);
  }

  private entryPath(url: string) {
    return path.join(this.opts.dir, 'entries', `${sha256(url)}.json`);
  }

  /** Reads the index from disk once (entries survive restarts; their file time is their last use). */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      await mkdir(path.join(this.opts.dir, 'blobs'), { recursive: true });
      await mkdir(path.join(this.opts.dir, 'entries'), { recursive: true });
      for (const name of await readdir(path.join(this.opts.dir, 'entries'))) {
        if (!name.endsWith('.json')) continue;
        const file = path.join(this.opts.dir, 'entries', name);
        try {
          const entry = JSON.parse(await readFile(file, 'utf8')) as CacheEntry;
          const blob = await stat(this.blobPath(entry.hash));
          this.index({ ...entry, size: blob.size, lastUsed: (await stat(file)).mtimeMs });
        } catch {
          await rm(file, { force: true }); // half-written or its blob is gone: forget it
        }
      }
      await this.evict();
    })();
    return this.loaded;
  }

  private index(entry: Indexed): void {
    const old = this.entries.get(entry.url);
    if (old) this.unref(old.hash);
    this.entries.set(entry.url, entry);
    const blob = this.blobRefs.get(entry.hash);
    if (blob) blob.refs++;
    else {
      this.blobRefs.set(entry.hash, { size: entry.size, refs: 1 });
      this.total += entry.size;
    }
  }

  /** Drops one reference to a blob; returns true when it was the last (the file may go). */
  private unref(hash: string): boolean {
    const blob = this.blobRefs.get(hash);
    if (!blob) return false;
    if (--blob.refs > 0) return false;
    this.blobRefs.delete(hash);
    this.total -= blob.size;
    return true;
  }

  async get(url: string): Promise<{ entry: CacheEntry; body: Buffer } | null> {
    await this.load();
    const entry = this.entries.get(url);
    if (!entry) return null;
    try {
      const body = await readFile(this.blobPath(entry.hash));
      entry.lastUsed = this.now();
      return { entry, body };
    } catch {
      await this.remove(url);
      return null;
    }
  }

  async put(url: string, finalUrl: string, contentType: string, body: Buffer): Promise<CacheEntry> {
    await this.load();
    const entry: CacheEntry = { url, finalUrl, hash: sha256(body), contentType, size: body.length, storedAt: this.now() };
    if (body.length > this.opts.maxBytes) return entry; // bigger than the whole cache: serve, keep nothing
    if (!this.blobRefs.has(entry.hash)) await this.writeAtomic(this.blobPath(entry.hash), body);
    await this.writeAtomic(this.entryPath(url), JSON.stringify(entry));
    const old = this.entries.get(url);
    this.index({ ...entry, lastUsed: this.now() });
    if (old && old.hash !== entry.hash && !this.blobRefs.has(old.hash)) await rm(this.blobPath(old.hash), { force: true });
    await this.evict();
    return entry;
  }

  private async writeAtomic(file: string, data: string | Buffer): Promise<void> {
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  }

  private async remove(url: string): Promise<void> {
    const entry = this.entries.get(url);
    if (!entry) return;
    this.entries.delete(url);
    await rm(this.entryPath(url), { force: true });
    if (this.unref(entry.hash)) await rm(this.blobPath(entry.hash), { force: true });
  }

  /** Least recently used first, until the blobs fit in maxBytes. */
  private async evict(): Promise<void> {
    if (this.total <= this.opts.maxBytes) return;
    const byAge = [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of byAge) {
      if (this.total <= this.opts.maxBytes) break;
      await this.remove(e.url);
    }
  }

  /** Drops entries nobody used within the retention; returns how many went. */
  async sweep(): Promise<number> {
    await this.load();
    const cutoff = this.now() - this.opts.retentionMs;
    const old = [...this.entries.values()].filter((e) => e.lastUsed < cutoff);
    for (const e of old) await this.remove(e.url);
    return old.length;
  }

  /** Writes the in-memory last-use times to the entry files (their mtime), so a restart keeps the LRU order. */
  async persistUse(): Promise<void> {
    for (const e of this.entries.values()) {
      const t = new Date(e.lastUsed);
      await utimes(this.entryPath(e.url), t, t).catch(() => {});
    }
  }
}
