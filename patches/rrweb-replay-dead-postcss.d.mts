import type { Plugin } from 'vite';

export declare const RRWEB_REPLAY_VERSION: string;
export declare const PATCH_NAME: string;
export declare const PATCH_MARKER: string;
/** @rrweb/replay's dist/replay.js with the patch applied; throws when it does not apply. */
export declare function patchRrwebReplayPostcss(source: string): string;
/** Vite plugin applying the patch while bundling. */
export declare function rrwebReplayDeadPostcssPlugin(): Plugin;
