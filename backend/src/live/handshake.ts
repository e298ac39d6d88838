import type { Logger } from 'pino';
import {
  CAPABILITIES, SUPPORTED_PROTOCOL_VERSIONS, TandemError, type AssistConnectError, type ErrorCode,
} from '@tandem/protocol';
import type { AppContext } from '../context.js';
import type { Metrics } from '../metrics.js';
import type { AgentRecords } from './agent-records.js';
import type { SharedLimiter } from './state/live-state.js';
import { AGENT_COOKIE, parseCookies } from '../auth/cookies.js';
import { parsePage } from './schemas.js';
import type { AgentIdentity, AssistSocket, SocketData, TabIdentity } from './types.js';

export interface HandshakeLimits {
  /** New connections per client IP (shared by every node with Redis). */
  ip: SharedLimiter;
  /** New connections per project (shared by every node with Redis). */
  project: SharedLimiter;
  /** True while this node drains: every new socket is refused, so it goes to another node. */
  draining?: () => boolean;
  /** Agent records kept briefly (agent-records.ts); without it every agent handshake reads storage. */
  agents?: AgentRecords;
}

type Handshake = AssistSocket['handshake'];
type Auth = Record<string, unknown>;

/** Same rule as HTTP (http/request.ts): the first X-Forwarded-For hop, else the peer address. */
export function clientIp(handshake: Handshake): string {
  const fwd = handshake.headers['x-forwarded-for'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
  return first || handshake.address;
}

/**
 * socket.io middleware of `/assist`: who is this socket? Refusals reach the client as `connect_error`
 * with `err.message` = the code and `err.data` = `{code, message}` (AssistConnectError).
 */
export function createHandshake(ctx: AppContext, limits: HandshakeLimits) {
  const { log, metrics } = ctx;
  return (socket: AssistSocket, next: (err?: Error) => void): void => {
    authenticate(ctx, limits, socket.handshake).then(
      (data) => {
        socket.data = data;
        next();
      },
      (err: unknown) => next(refusal(err, log, metrics)),
    );
  };
}

function refusal(err: unknown, log: Logger, metrics: Metrics): Error {
  const known = err instanceof TandemError;
  if (!known) log.error({ err }, 'live: handshake failed');
  const code: ErrorCode = known ? err.code : 'internal';
  const message = known ? err.message : 'Internal server error';
  metrics.liveRefused.inc({ code });
  const e = new Error(code) as Error & { data: AssistConnectError };
  e.data = { code, message };
  return e;
}

async function authenticate(ctx: AppContext, limits: HandshakeLimits, hs: Handshake): Promise<SocketData> {
  if (limits.draining?.()) throw new TandemError('unavailable', 'This server is shutting down; reconnect (another server will answer)');
  const auth = (hs.auth ?? {}) as Auth;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(auth.v as number)) {
    throw new TandemError('unsupported_version',
      `Protocol version ${String(auth.v)} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
  }
  if (auth.role === 'tab') return authTab(ctx, limits, hs, auth);
  if (auth.role === 'agent') return authAgent(ctx, limits, hs, auth);
  throw new TandemError('bad_request', 'auth.role must be "tab" or "agent"');
}

async function takeIp(limits: HandshakeLimits, ip: string): Promise<void> {
  if (!(await limits.ip.take(ip))) throw new TandemError('rate_limited', 'Too many new live connections from this address; retry later');
}

async function takeProject(limits: HandshakeLimits, projectId: string): Promise<void> {
  if (!(await limits.project.take(projectId))) throw new TandemError('rate_limited', 'Too many new live connections for this project; retry later');
}

/**
 * A tab: the session token names project, session, tab and visitor. A tab that says it is resuming
 * AND proves it with a valid token skips the new-connection limits (a server restart reconnects every
 * tab at once); that cannot be abused to open many sockets, because a tab has one socket at a time
 * (a newer socket replaces the older one in the registry).
 */
async function authTab(ctx: AppContext, limits: HandshakeLimits, hs: Handshake, auth: Auth): Promise<TabIdentity> {
  const ip = clientIp(hs);
  const resume = auth.resume === true;
  // Limits first for new tabs, so a flood is refused before any signature is checked.
  if (!resume) await takeIp(limits, ip);
  if (typeof auth.token !== 'string' || !auth.token) throw new TandemError('unauthorized', 'auth.token (the session token) is required');
  let claims;
  try {
    claims = await ctx.signer.verifySession(auth.token);
  } catch (err) {
    // A bad token claiming to resume still counts against its address.
    if (resume) await takeIp(limits, ip);
    throw err;
  }
  const project = await ctx.projects.byProjectId(claims.pid);
  if (!project) throw new TandemError('unauthorized', 'The project of this token no longer exists');
  const origin = hs.headers.origin;
  if (project.allowedOrigins.length && origin && !project.allowedOrigins.includes(origin)) {
    throw new TandemError('origin_not_allowed', `Origin ${origin} is not allowed for this project`);
  }
  if (!resume) await takeProject(limits, claims.pid);
  const page = parsePage(auth.page) ?? { url: '', title: '', visible: true, focused: false };
  const ua = hs.headers['user-agent'];
  return {
    role: 'tab', projectId: claims.pid, sessionId: claims.sid, tabId: claims.tid, visitorId: claims.vid, page,
    userAgent: typeof ua === 'string' ? ua : '',
  };
}

/**
 * An agent: a watch link (one session, the link's capabilities) or the dashboard's login cookie (the
 * whole project, every capability). Agents never skip the limits.
 */
async function authAgent(ctx: AppContext, limits: HandshakeLimits, hs: Handshake, auth: Auth): Promise<AgentIdentity> {
  await takeIp(limits, clientIp(hs));
  if (auth.watchToken !== undefined) {
    if (typeof auth.watchToken !== 'string' || !auth.watchToken) throw new TandemError('unauthorized', 'auth.watchToken is malformed');
    const link = await ctx.signer.verifyWatch(auth.watchToken);
    if (!(await ctx.projects.byProjectId(link.pid))) throw new TandemError('unauthorized', 'The project of this link no longer exists');
    await takeProject(limits, link.pid);
    return {
      role: 'agent', projectId: link.pid, agentId: link.agent.id, name: link.agent.name, via: 'watch-link',
      capabilities: [...link.caps], sessionId: link.sid, expiresAt: link.expiresAt,
    };
  }
  const cookie = parseCookies(typeof hs.headers.cookie === 'string' ? hs.headers.cookie : undefined)[AGENT_COOKIE];
  if (!cookie) throw new TandemError('unauthorized', 'Sign in first (no agent cookie) or pass auth.watchToken');
  checkSameOrigin(hs);
  const claims = await ctx.signer.verifyAgent(cookie);
  const agent = await (limits.agents ? limits.agents.get(claims.sub) : ctx.store.getAgent(claims.sub));
  if (!agent || agent.disabled || agent.projectId !== claims.pid) throw new TandemError('unauthorized', 'Agent no longer exists');
  await takeProject(limits, agent.projectId);
  return {
    role: 'agent', projectId: agent.projectId, agentId: agent.id, name: agent.name || agent.email, via: 'login',
    capabilities: [...CAPABILITIES],
  };
}

/**
 * The login cookie rides along on any WebSocket a browser opens to us, including one opened by
 * another site's page (cross-site WebSocket hijacking; SameSite=Lax only helps across sites, not
 * across origins of one site). A browser always sends Origin: it must be this server's own host.
 * Clients without an Origin (not browsers) cannot have taken a browser's cookie.
 */
function checkSameOrigin(hs: Handshake): void {
  const origin = hs.headers.origin;
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new TandemError('origin_not_allowed', 'Malformed Origin');
  }
  const fwdHost = hs.headers['x-forwarded-host'];
  const allowed = [hs.headers.host, ...(typeof fwdHost === 'string' ? fwdHost.split(',').map((h) => h.trim()) : [])];
  if (!allowed.includes(host)) throw new TandemError('origin_not_allowed', `Origin ${origin} may not use the agent login`);
}
