import type { TemplatedApp } from 'uWebSockets.js';
import { TandemError, type AgentInfo } from '@tandem/protocol';
import type { AgentRecord } from '@tandem/storage';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json } from '../http/reply.js';
import { route } from '../http/router.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { loginSchema, describeIssues } from '../ingest/schemas.js';
import { verifyPassword } from '../auth/password.js';
import { AGENT_COOKIE, agentCookie, parseCookies } from '../auth/cookies.js';
import { AGENT_COOKIE_TTL_S } from '../auth/tokens.js';
import { meResponseSchema } from '../http/openapi-responses-more.js';

export function agentInfo(a: AgentRecord): AgentInfo {
  return { id: a.id, email: a.email, name: a.name, projectId: a.projectId, role: a.role };
}

/** Resolves the signed-in agent from the HttpOnly cookie, or throws 401. */
export async function requireAgent(ctx: AppContext, req: RequestInfo): Promise<AgentRecord> {
  const cookie = parseCookies(req.headers.cookie)[AGENT_COOKIE];
  if (!cookie) throw new TandemError('unauthorized', 'Sign in first');
  const claims = await ctx.signer.verifyAgent(cookie);
  // Kept 30 s and forgotten at once on removal, on every node (ctx.agents; docs/decisions.md).
  const agent = await (ctx.agents ? ctx.agents.get(claims.sub) : ctx.store.getAgent(claims.sub));
  if (!agent || agent.disabled || agent.projectId !== claims.pid) throw new TandemError('unauthorized', 'Agent no longer exists');
  return agent;
}

export function registerAuthRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store, signer, limits } = ctx;
  const secure = (req: RequestInfo) => req.headers['x-forwarded-proto'] === 'https';

  route(app, log, 'post', '/api/v1/auth/login', async (req) => {
    if (!(await limits.login.take(req.ip))) throw new TandemError('rate_limited', 'Too many sign-in attempts; wait a minute');
    const parsed = loginSchema.safeParse(await decodeJsonBody(req.body, 16 * 1024));
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const { email, password } = parsed.data;
    const agent = await store.getAgentByEmail(email.trim().toLowerCase());
    // Same answer (and a KDF run either way) whether the email exists or not.
    const ok = agent && !agent.disabled ? await verifyPassword(password, agent.passwordHash) : await verifyPassword(password, DUMMY_HASH);
    if (!agent || !ok) throw new TandemError('invalid_credentials', 'Wrong email or password');
    const token = await signer.signAgent({ sub: agent.id, pid: agent.projectId });
    return json({ agent: agentInfo(agent) }, 200, { 'set-cookie': agentCookie(token, AGENT_COOKIE_TTL_S, secure(req)) });
  }, { bodyLimit: 16 * 1024, doc: {
    tag: 'auth', summary: 'Sign in with email and password; sets the HttpOnly agent cookie', auth: ['public'],
    body: { schema: loginSchema }, response: { description: '{agent: AgentInfo}, with Set-Cookie' },
    errors: ['bad_json', 'bad_request', 'invalid_credentials', 'rate_limited'],
  } });

  route(app, log, 'post', '/api/v1/auth/logout', (req) => ({
    status: 204,
    headers: { 'set-cookie': agentCookie('', 0, secure(req)) },
  }), { doc: {
    tag: 'auth', summary: 'Sign out (clears the cookie)', auth: ['public'],
    response: { status: 204, description: 'Signed out', type: null }, errors: [],
  } });

  route(app, log, 'get', '/api/v1/auth/me', async (req) => json({ agent: agentInfo(await requireAgent(ctx, req)) }), { doc: {
    tag: 'auth', summary: 'The signed-in agent', auth: ['agent'], response: { description: '{agent: AgentInfo}', schema: meResponseSchema }, errors: [],
  } });
}

// A valid scrypt hash of a random string, so unknown emails cost the same time as wrong passwords.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
