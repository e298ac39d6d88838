import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { CAPABILITIES, TandemError, type Capability, type SessionTokenClaims, type WatchTokenClaims } from '@tandem/protocol';

/** A session token lives long enough for a working day; the tracker calls start again when it expires. */
export const SESSION_TOKEN_TTL_S = 12 * 60 * 60;
/** Agents stay signed in for a week. */
export const AGENT_COOKIE_TTL_S = 7 * 24 * 60 * 60;

const ISSUER = 'tandem';

export interface AgentClaims {
  /** agent id */
  sub: string;
  /** project id */
  pid: string;
}

/**
 * A tab sends every batch with the same token for hours, and each jose verification re-imports the
 * HMAC key through WebCrypto (about 4% of the ingest thread at 50k events/s). Tokens that verified
 * are remembered until they expire; the map is bounded by clearing it when full.
 */
const VERIFIED_CACHE_MAX = 50_000;

export class TokenSigner {
  private readonly key: Uint8Array;
  private readonly verified = new Map<string, { claims: SessionTokenClaims; expMs: number }>();
  /** Agent cookies that verified, the same way: every live view's socket handshake checks one (on a join's path). */
  private readonly verifiedAgents = new Map<string, { claims: AgentClaims; expMs: number }>();
  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async signSession(claims: SessionTokenClaims): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Date.now() + SESSION_TOKEN_TTL_S * 1000;
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience('ingest')
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  async verifySession(token: string): Promise<SessionTokenClaims> {
    const hit = this.verified.get(token);
    if (hit && hit.expMs > Date.now()) return hit.claims;
    if (hit) this.verified.delete(token);
    const payload = await this.verify(token, 'ingest');
    const { pid, sid, tid, vid } = payload as Record<string, unknown>;
    if (typeof pid !== 'string' || typeof sid !== 'string' || typeof tid !== 'string' || typeof vid !== 'string') {
      throw new TandemError('unauthorized', 'Session token is missing claims');
    }
    const claims = { pid, sid, tid, vid };
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
    this.verified.set(token, { claims, expMs: (payload.exp ?? 0) * 1000 });
    return claims;
  }

  async signAgent(claims: AgentClaims): Promise<string> {
    return new SignJWT({ pid: claims.pid })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.sub)
      .setIssuer(ISSUER)
      .setAudience('agent')
      .setIssuedAt()
      .setExpirationTime(`${AGENT_COOKIE_TTL_S}s`)
      .sign(this.key);
  }

  async verifyAgent(token: string): Promise<AgentClaims> {
    const hit = this.verifiedAgents.get(token);
    if (hit && hit.expMs > Date.now()) return { ...hit.claims };
    if (hit) this.verifiedAgents.delete(token);
    const payload = await this.verify(token, 'agent');
    if (typeof payload.sub !== 'string' || typeof payload.pid !== 'string') {
      throw new TandemError('unauthorized', 'Agent token is missing claims');
    }
    const claims = { sub: payload.sub, pid: payload.pid };
    if (this.verifiedAgents.size >= VERIFIED_CACHE_MAX) this.verifiedAgents.clear();
    this.verifiedAgents.set(token, { claims, expMs: (payload.exp ?? 0) * 1000 });
    return { ...claims };
  }

  /** A watch link: one session, the link's capabilities, until `expiresAt`. */
  async signWatch(claims: WatchTokenClaims, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Date.now() + ttlSeconds * 1000;
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience('watch')
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  async verifyWatch(token: string): Promise<WatchTokenClaims & { expiresAt: number }> {
    const payload = await this.verify(token, 'watch');
    const { pid, sid, vid, agent, caps, branding } = payload as Record<string, unknown>;
    const a = agent as { id?: unknown; name?: unknown } | undefined;
    if (typeof pid !== 'string' || typeof sid !== 'string' || typeof vid !== 'string' || typeof a?.id !== 'string' ||
      typeof a.name !== 'string' || !Array.isArray(caps) || !caps.every((c) => (CAPABILITIES as readonly string[]).includes(c))) {
      throw new TandemError('unauthorized', 'Watch link is missing claims');
    }
    return {
      pid, sid, vid, agent: { id: a.id, name: a.name }, caps: caps as Capability[],
      ...(branding && typeof branding === 'object' ? { branding: branding as WatchTokenClaims['branding'] } : {}),
      expiresAt: (payload.exp ?? 0) * 1000,
    };
  }

  private async verify(token: string, audience: string) {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience, algorithms: ['HS256'] });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TandemError('unauthorized', 'Token expired');
      throw new TandemError('unauthorized', 'Invalid token');
    }
  }
}
