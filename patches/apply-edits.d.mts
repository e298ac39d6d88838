export interface Edit { what: string; find: string; replace: string }
export interface PatchInfo { name: string; pkg: string; version: string }
export declare function applyEdits(source: string, patch: PatchInfo & { marker: string; edits: Edit[] }): string;
export declare function checkVersion(distFile: string, patch: PatchInfo): void;
/** Vite plugin applying `patch` to @rrweb/replay's dist/replay.js while bundling (checks the version, fails if another dist file was bundled). */
export declare function rrwebReplayPatchPlugin(info: PatchInfo, patch: (source: string) => string): import('vite').Plugin;
