import { createHmac, timingSafeEqual } from 'node:crypto';
import { ASSET_PROXY_PATH, TandemError, type AssetKind } from '@tandem/protocol';

/**
 * Proxy links are signed, so the proxy fetches only URLs this server handed out to someone allowed
 * to replay a project's sessions — it is not an open relay for anyone who finds the endpoint.
 * The MAC covers the URL, the project, the kind (css links get rewritten) and the expiry.
 *
 * Expiries are rounded up to the next whole `ttlS` window, so one asset signed many times within a
 * window gets the same link (the browser cache works) and every link is valid for ttlS to 2·ttlS.
 */
export const ASSET_LINK_TTL_S = 60 * 60;

export interface VerifiedAssetLink {
  url: string;
  projectId: string;
  kind: AssetKind;
  expiresAt: number;
}

export class AssetLinkSigner {
  private readonly key: Buffer;

  constructor(secret: string, private readonly ttlS = ASSET_LINK_TTL_S) {
    // A key of its own, derived from the server secret: a proxy MAC can never pass for a JWT signature.
    this.key = createHmac('sha256', secret).update('tandem asset proxy links v1').digest();
  }

  private mac(url: string, projectId: string, kind: AssetKind, exp: number): string {
    return createHmac('sha256', this.key).update(`v1\n${projectId}\n${kind}\n${exp}\n${url}`).digest('base64url');
  }

  /** A root-relative proxy link for `url` (absolute http(s)) in `projectId`. */
  link(url: string, projectId: string, kind: AssetKind, now = Date.now()): string {
    const exp = (Math.floor(now / 1000 / this.ttlS) + 2) * this.ttlS;
    const q = new URLSearchParams({ u: url, k: kind, p: projectId, e: String(exp), s: this.mac(url, projectId, kind, exp) });
    return `${ASSET_PROXY_PATH}?${q}`;
  }

  /** Checks a link's query; throws `unauthorized` for a missing, tampered or expired signature. */
  verify(q: URLSearchParams, now = Date.now()): VerifiedAssetLink {
    const url = q.get('u');
    const kind = q.get('k');
    const projectId = q.get('p');
    const exp = Number(q.get('e'));
    const sig = q.get('s');
    if (!url || !projectId || !sig || !Number.isInteger(exp) || (kind !== 'css' && kind !== 'asset')) {
      throw new TandemError('unauthorized', 'Asset link is not signed (u, k, p, e and s are required)');
    }
    const expected = Buffer.from(this.mac(url, projectId, kind, exp));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new TandemError('unauthorized', 'Asset link signature is invalid');
    }
    if (exp * 1000 <= now) throw new TandemError('unauthorized', 'Asset link expired');
    return { url, projectId, kind, expiresAt: exp * 1000 };
  }
}
