export interface Edit { what: string; find: string; replace: string }
export interface PatchInfo { name: string; pkg: string; version: string }
export declare function applyEdits(source: string, patch: PatchInfo & { marker: string; edits: Edit[] }): string;
export declare function checkVersion(distFile: string, patch: PatchInfo): void;
