import { randomUUID } from 'node:crypto';
import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import {
  CANVAS_RECORDING_LEVELS,
  TandemError,
  type AgentInfo,
  type ApiKeyInfo,
  type CreateApiKeyResponse,
  type ListResponse,
  type ProjectInfo,
} from '@tandem/protocol';
import type { AgentRecord, ApiKeyRecord, ProjectRecord } from '@tandem/storage';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json, type Reply } from '../http/reply.js';
import { route } from '../http/router.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { describeIssues, idSchema } from '../ingest/schemas.js';
import { hashPassword } from '../auth/password.js';
import { forgetApiKey, newApiKeySecret } from '../auth/api-keys.js';
import { agentInfo, requireAgent } from './auth.js';
import { agentInfoSchema, agentListSchema, apiKeyListSchema, createApiKeyResponseSchema, projectInfoSchema } from '../http/openapi-responses-more.js';

/**
 * Settings of the signed-in agent's project: the project itself (any agent reads, admins edit), API
 * keys and agents (admins only). Everything is scoped to the caller's project: another project's key
 * or agent id answers 404 as if it did not exist.
 */

const BODY_LIMIT = 16 * 1024;

/** An origin as browsers send it in `Origin`: scheme, host, port; nothing else. */
const originSchema = z.string().trim().max(300).transform((value, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an origin like https://shop.example.com` });
    return z.NEVER;
  }
  return url.origin;
});

export const projectPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  allowedOrigins: z.array(originSchema).max(100).optional(),
  requireConsent: z.boolean().optional(),
  canvasRecording: z.enum(CANVAS_RECORDING_LEVELS).optional(),
});

export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1, 'name is required').max(100),
});

export const createAgentSchema = z.strictObject({
  email: z.string().trim().toLowerCase().max(320).pipe(z.email('email is not a valid address')),
  name: z.string().trim().min(1, 'name is required').max(200),
  password: z.string().min(8, 'password must be at least 8 characters').max(1024),
  role: z.enum(['admin', 'agent']).optional(),
});

export function projectInfo(p: ProjectRecord): ProjectInfo {
  return { id: p.id, name: p.name, key: p.key, allowedOrigins: p.allowedOrigins, requireConsent: p.requireConsent,
    canvasRecording: p.canvasRecording ?? 'off' };
}

export function apiKeyInfo(k: ApiKeyRecord): ApiKeyInfo {
  return { id: k.id, name: k.name, prefix: k.prefix, createdAt: k.createdAt, createdBy: k.createdBy, lastUsedAt: k.lastUsedAt };
}

export async function requireAdmin(ctx: AppContext, req: RequestInfo): Promise<AgentRecord> {
  const agent = await requireAgent(ctx, req);
  if (agent.role !== 'admin') throw new TandemError('forbidden', 'Only admins can change settings');
  return agent;
}

/**
 * Cookie-authenticated writes take JSON only. An HTML form (or a `no-cors` fetch) from a site that
 * shares our cookie's site can POST text/plain without a preflight; it cannot send application/json.
 */
async function jsonBody<T>(req: RequestInfo, schema: z.ZodType<T>): Promise<T> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new TandemError('bad_request', 'Send the body as Content-Type: application/json');
  const parsed = schema.safeParse(await decodeJsonBody(req.body, BODY_LIMIT));
  if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
  return parsed.data;
}

const noContent: Reply = { status: 204 };

/** `:id` of an API key or agent: our own random ids; anything else names nothing (404). */
export const settingsIdParamsSchema = z.object({ id: idSchema });

function idParam(req: RequestInfo, what: string): string {
  const parsed = settingsIdParamsSchema.safeParse({ id: req.params[0] });
  if (!parsed.success) throw new TandemError('not_found', `No such ${what}`);
  return parsed.data.id;
}

const WRITE_ERRORS = ['bad_json', 'bad_request'] as const;
const gone = { status: 204, description: 'Done', type: null } as const;

export function registerSettingsRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store } = ctx;

  async function currentProject(projectId: string): Promise<ProjectRecord> {
    const project = await store.getProject(projectId);
    if (!project) throw new TandemError('not_found', 'Project not found');
    return project;
  }

  // ------------------------------------------------------------------------------------- project

  route(app, log, 'get', '/api/v1/project', async (req) => {
    const agent = await requireAgent(ctx, req);
    const project = await ctx.projects.byProjectId(agent.projectId);
    if (!project) throw new TandemError('not_found', 'Project not found');
    return json(projectInfo(project));
  }, { doc: {
    tag: 'settings', summary: "The signed-in agent's project", auth: ['agent'], response: { description: 'ProjectInfo', schema: projectInfoSchema }, errors: ['not_found'],
  } });

  route(app, log, 'patch', '/api/v1/project', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const patch = await jsonBody(req, projectPatchSchema);
    const project = await currentProject(admin.projectId);
    const next: ProjectRecord = {
      ...project,
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.allowedOrigins !== undefined ? { allowedOrigins: [...new Set(patch.allowedOrigins)] } : {}),
      ...(patch.requireConsent !== undefined ? { requireConsent: patch.requireConsent } : {}),
      ...(patch.canvasRecording !== undefined ? { canvasRecording: patch.canvasRecording } : {}),
    };
    await store.createProject(next);
    ctx.projects.invalidate(project.id);
    ctx.live?.projectChanged(project.id);
    log.info({ projectId: project.id, by: admin.id, fields: Object.keys(patch) }, 'project settings changed');
    return json(projectInfo(next));
  }, { bodyLimit: BODY_LIMIT, doc: {
    tag: 'settings', summary: 'Change the project (admins)', auth: ['admin'], body: { schema: projectPatchSchema },
    response: { description: 'ProjectInfo after the change', schema: projectInfoSchema }, errors: [...WRITE_ERRORS, 'not_found'],
  } });

  // ------------------------------------------------------------------------------------ API keys

  route(app, log, 'get', '/api/v1/api-keys', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const body: ListResponse<ApiKeyInfo> = { items: (await store.listApiKeys(admin.projectId)).map(apiKeyInfo) };
    return json(body);
  }, { doc: {
    tag: 'settings', summary: "The project's API keys (never their secrets)", auth: ['admin'],
    response: { description: '{items: ApiKeyInfo[]}', schema: apiKeyListSchema }, errors: [],
  } });

  route(app, log, 'post', '/api/v1/api-keys', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const { name } = await jsonBody(req, createApiKeySchema);
    const { secret, prefix, hash } = newApiKeySecret();
    const key: ApiKeyRecord = {
      id: randomUUID().replaceAll('-', ''), projectId: admin.projectId, name, prefix, secretHash: hash,
      createdAt: Date.now(), createdBy: admin.id, lastUsedAt: null, revoked: false,
    };
    await store.createApiKey(key);
    log.info({ projectId: admin.projectId, keyId: key.id, by: admin.id }, 'API key created');
    const body: CreateApiKeyResponse = { key: apiKeyInfo(key), secret };
    return json(body);
  }, { bodyLimit: BODY_LIMIT, doc: {
    tag: 'settings', summary: 'Create an API key; its secret is shown once', auth: ['admin'], body: { schema: createApiKeySchema },
    response: { description: 'CreateApiKeyResponse: {key, secret}', schema: createApiKeyResponseSchema }, errors: WRITE_ERRORS,
  } });

  route(app, log, 'del', '/api/v1/api-keys/:id', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const id = idParam(req, 'API key');
    if (!(await store.revokeApiKey(admin.projectId, id))) throw new TandemError('not_found', 'No such API key');
    forgetApiKey(store, id);
    log.info({ projectId: admin.projectId, keyId: id, by: admin.id }, 'API key revoked');
    return noContent;
  }, { doc: {
    tag: 'settings', summary: 'Revoke an API key', auth: ['admin'], params: settingsIdParamsSchema, response: gone, errors: ['not_found'],
  } });

  // -------------------------------------------------------------------------------------- agents

  route(app, log, 'get', '/api/v1/agents', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const body: ListResponse<AgentInfo> = { items: (await store.listAgents(admin.projectId)).map(agentInfo) };
    return json(body);
  }, { doc: {
    tag: 'settings', summary: "The project's agents", auth: ['admin'], response: { description: '{items: AgentInfo[]}', schema: agentListSchema }, errors: [],
  } });

  route(app, log, 'post', '/api/v1/agents', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const input = await jsonBody(req, createAgentSchema);
    // Sign-in is by email alone, so an email names one agent across every project.
    if (await store.getAgentByEmail(input.email)) throw new TandemError('bad_request', 'An agent with this email already exists');
    const agent: AgentRecord = {
      id: randomUUID().replaceAll('-', ''), projectId: admin.projectId, email: input.email, name: input.name,
      role: input.role ?? 'agent', passwordHash: await hashPassword(input.password), createdAt: Date.now(), disabled: false,
    };
    await store.createAgent(agent);
    log.info({ projectId: admin.projectId, agentId: agent.id, role: agent.role, by: admin.id }, 'agent added');
    return json(agentInfo(agent));
  }, { bodyLimit: BODY_LIMIT, doc: {
    tag: 'settings', summary: 'Add an agent', auth: ['admin'], body: { schema: createAgentSchema },
    response: { description: 'AgentInfo', schema: agentInfoSchema }, errors: WRITE_ERRORS,
  } });

  route(app, log, 'del', '/api/v1/agents/:id', async (req) => {
    const admin = await requireAdmin(ctx, req);
    const id = idParam(req, 'agent');
    if (id === admin.id) throw new TandemError('bad_request', 'You cannot remove yourself; ask another admin');
    if (!(await store.removeAgent(admin.projectId, id))) throw new TandemError('not_found', 'No such agent');
    ctx.live?.agentRemoved(admin.projectId, id);
    log.info({ projectId: admin.projectId, agentId: id, by: admin.id }, 'agent removed');
    return noContent;
  }, { doc: {
    tag: 'settings', summary: 'Remove an agent (never yourself)', auth: ['admin'], params: settingsIdParamsSchema, response: gone,
    errors: ['bad_request', 'not_found'],
  } });
}
