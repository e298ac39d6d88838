import type { ProjectRecord, Store } from '@tandem/storage';
import type { ProjectCache } from '../context.js';

/** A settings change reaches joins within this long even if nobody calls projectChanged. */
const TTL_MS = 30_000;

/**
 * Whether a project asks its users before an agent may watch. Read at every join, so it is kept in
 * memory; `projectChanged` drops it and makes the next read bypass the shared project cache (which
 * would otherwise answer the old value for up to 30 s after the settings were saved).
 */
export class ConsentPolicy {
  private readonly cache = new Map<string, { value: boolean; until: number }>();
  private readonly stale = new Set<string>();

  constructor(private readonly projects: ProjectCache, private readonly store: Store) {}

  async requireConsent(projectId: string): Promise<boolean> {
    const hit = this.cache.get(projectId);
    if (hit && hit.until > Date.now()) return hit.value;
    const fresh = this.stale.delete(projectId);
    const project = fresh ? await this.store.getProject(projectId) : await this.projects.byProjectId(projectId);
    const value = readRequireConsent(project);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(projectId, { value, until: Date.now() + TTL_MS });
    return value;
  }

  projectChanged(projectId: string): void {
    this.cache.delete(projectId);
    this.stale.add(projectId);
  }
}

/** `requireConsent` is a newer field of ProjectRecord: records written before it have none (= false). */
export function readRequireConsent(project: ProjectRecord | null): boolean {
  return (project as { requireConsent?: boolean } | null)?.requireConsent === true;
}
