import type { Plugin } from 'esbuild';

export declare const RRWEB_RECORD_VERSION: string;
export declare const PATCH_NAME: string;
export declare const PATCH_MARKER: string;
/** @rrweb/record's dist/record.js with the patch applied; throws when it does not apply. */
export declare function patchRrwebRecord(source: string): string;
/** esbuild plugin applying the patch while bundling. */
export declare function rrwebSelectorMemoPlugin(): Plugin;
