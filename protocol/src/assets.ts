/**
 * The asset proxy (`/api/v1/assets/...`): the player asks the server to sign the URLs of a recorded
 * page's stylesheets, fonts and images, then loads them through the proxy, same-origin.
 */

/** `css`: a stylesheet (served as text/css, its `url()`, `@import` and `:hover` rewritten); `asset`: anything else. */
export type AssetKind = 'css' | 'asset';

/** `POST /api/v1/assets/sign` (an agent, or a watch link's bearer token). */
export interface AssetSignRequest {
  urls: { url: string; kind: AssetKind }[];
}

/**
 * Same order as the request. `null`: leave the URL as it is (not http(s), or too long).
 * `enabled: false`: the proxy is switched off on this server (every entry null).
 */
export interface AssetSignResponse {
  enabled: boolean;
  urls: (string | null)[];
}

/** Most URLs one sign request may carry; the player sends one request per window of events. */
export const ASSET_SIGN_MAX_URLS = 1000;
/** Longer URLs are left alone (browsers and servers commonly stop near 8 KB anyway). */
export const ASSET_URL_MAX_LENGTH = 4096;
/** Path of the proxy; its query carries the signed link (see backend/src/assets/signing.ts). */
export const ASSET_PROXY_PATH = '/api/v1/assets/proxy';
