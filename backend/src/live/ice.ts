import { createHmac } from 'node:crypto';
import type { RtcConfig } from '@tandem/protocol';
import type { ServerConfig } from '../config.js';

/**
 * Time-limited TURN credentials in the style of coturn's REST API (`use-auth-secret` +
 * `static-auth-secret`, draft-uberti-behave-turn-rest): the username is `<expiry unix s>:<sessionId>`
 * and the password base64(HMAC-SHA1(secret, username)). The TURN server checks them with the same
 * secret and refuses them after the expiry, so a leaked one is worth little and only for a while.
 */
export function turnCredential(secret: string, sessionId: string, ttlSeconds: number, nowMs = Date.now()): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${sessionId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/** ICE servers for one session: TANDEM_ICE_SERVERS as configured, plus the TURN servers with fresh credentials. */
export function rtcConfigFor(config: Pick<ServerConfig, 'iceServers' | 'turn'>, sessionId: string, nowMs = Date.now()): RtcConfig {
  const iceServers: RtcConfig['iceServers'] = config.iceServers.map((s) => ({ ...s }));
  if (config.turn) {
    iceServers.push({ urls: [...config.turn.urls], ...turnCredential(config.turn.secret, sessionId, config.turn.ttlSeconds, nowMs) });
  }
  return { iceServers };
}

/**
 * How often a session's peers get fresh TURN credentials (`rtc:config` again), or null without TURN:
 * at half their life, so what a peer holds always has at least half its TTL left. A TURN server
 * checks the credentials on every allocation and allocation refresh (every few minutes), so a call
 * or canvas stream that outlives them would lose its relay.
 */
export function rtcRefreshMs(config: Pick<ServerConfig, 'turn'>): number | null {
  return config.turn ? (config.turn.ttlSeconds * 1000) / 2 : null;
}
