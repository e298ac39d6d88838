import { CANVAS_RECORDING_LEVELS, type CanvasRecording } from '@tandem/protocol';
import { chTime } from './encode.js';
import type { AgentRecord, ApiKeyInput, ApiKeyRecord, Driver, ProjectInput, ProjectRecord } from './types.js';

/**
 * Projects, agents and API keys: small tables written rarely, one row per id in
 * ReplacingMergeTree(version), so "create" is also "update" (the newest version wins) and reads use
 * FINAL. With FINAL, WHERE on a non-key column (`removed`, `revoked`) sees the newest version only.
 */

type Raw = Record<string, unknown>;

const PROJECT_COLUMNS = 'id, name, key, allowed_origins, toUnixTimestamp64Milli(created_at) AS created_at, require_consent, canvas_recording';
const AGENT_COLUMNS = `id, project_id, email, name, role, password_hash, toUnixTimestamp64Milli(created_at) AS created_at, disabled`;
const KEY_COLUMNS = `id, project_id, name, prefix, secret_hash, toUnixTimestamp64Milli(created_at) AS created_ms, created_by, revoked`;

const toProject = (r: Raw): ProjectRecord => ({
  id: String(r.id), name: String(r.name), key: String(r.key),
  allowedOrigins: (r.allowed_origins as string[]) ?? [], createdAt: Number(r.created_at),
  requireConsent: Number(r.require_consent) === 1,
  canvasRecording: canvasLevel(r.canvas_recording),
});

/** Unknown stored values (a newer server's level read by an older one) mean off: never record more than asked. */
function canvasLevel(v: unknown): CanvasRecording {
  return (CANVAS_RECORDING_LEVELS as readonly unknown[]).includes(v) ? (v as CanvasRecording) : 'off';
}

const toAgent = (r: Raw): AgentRecord => ({
  id: String(r.id), projectId: String(r.project_id), email: String(r.email), name: String(r.name),
  role: r.role === 'admin' ? 'admin' : 'agent', passwordHash: String(r.password_hash),
  createdAt: Number(r.created_at), disabled: Number(r.disabled) === 1,
});

const toKey = (r: Raw, lastUsed: number | undefined): ApiKeyRecord => ({
  id: String(r.id), projectId: String(r.project_id), name: String(r.name), prefix: String(r.prefix),
  secretHash: String(r.secret_hash), createdAt: Number(r.created_ms), createdBy: String(r.created_by),
  lastUsedAt: lastUsed ? lastUsed : null, revoked: Number(r.revoked) === 1,
});

export function createAccounts(driver: Driver, db: string) {
  let lastVersion = 0;
  // Microseconds of wall time, bumped when two writes land in the same microsecond: later write wins.
  const version = () => (lastVersion = Math.max(lastVersion + 1, Date.now() * 1000));

  const writeAgent = (a: AgentRecord, removed: boolean) =>
    driver.insert(`${db}.agents`, [{
      id: a.id, project_id: a.projectId, email: a.email, name: a.name, role: a.role, password_hash: a.passwordHash,
      created_at: chTime(a.createdAt), disabled: a.disabled ? 1 : 0, removed: removed ? 1 : 0, version: version(),
    }]);

  const writeKey = (k: ApiKeyInput, revoked: boolean) =>
    driver.insert(`${db}.api_keys`, [{
      id: k.id, project_id: k.projectId, name: k.name, prefix: k.prefix, secret_hash: k.secretHash,
      created_at: chTime(k.createdAt), created_by: k.createdBy, revoked: revoked ? 1 : 0, version: version(),
    }]);

  async function agentInProject(projectId: string, agentId: string): Promise<AgentRecord | null> {
    const rows = await driver.query<Raw>(
      `SELECT ${AGENT_COLUMNS} FROM ${db}.agents FINAL WHERE id = {id:String} AND removed = 0 AND project_id = {p:String}`,
      { id: agentId, p: projectId });
    return rows[0] ? toAgent(rows[0]) : null;
  }

  /** Last use per key (ms), for the given keys of one project. */
  async function lastUses(projectId: string, keyIds: string[]): Promise<Map<string, number>> {
    if (!keyIds.length) return new Map();
    const rows = await driver.query<{ key_id: string; used_ms: string | number }>(
      `SELECT key_id, toUnixTimestamp64Milli(max(last_used_at)) AS used_ms FROM ${db}.api_key_usage
       WHERE project_id = {p:String} AND key_id IN {ids:Array(String)} GROUP BY key_id`,
      { p: projectId, ids: keyIds });
    return new Map(rows.map((r) => [String(r.key_id), Number(r.used_ms)]));
  }

  return {
    async createProject(p: ProjectInput): Promise<void> {
      await driver.insert(`${db}.projects`, [{
        id: p.id, name: p.name, key: p.key, allowed_origins: p.allowedOrigins, created_at: chTime(p.createdAt),
        require_consent: p.requireConsent ? 1 : 0, canvas_recording: p.canvasRecording ?? 'off', version: version(),
      }]);
    },
    async getProjectByKey(key: string): Promise<ProjectRecord | null> {
      const rows = await driver.query<Raw>(`SELECT ${PROJECT_COLUMNS} FROM ${db}.projects FINAL WHERE key = {key:String} LIMIT 1`, { key });
      return rows[0] ? toProject(rows[0]) : null;
    },
    async getProject(id: string): Promise<ProjectRecord | null> {
      const rows = await driver.query<Raw>(`SELECT ${PROJECT_COLUMNS} FROM ${db}.projects FINAL WHERE id = {id:String}`, { id });
      return rows[0] ? toProject(rows[0]) : null;
    },
    async listProjects(): Promise<ProjectRecord[]> {
      return (await driver.query<Raw>(`SELECT ${PROJECT_COLUMNS} FROM ${db}.projects FINAL ORDER BY created_at, id`)).map(toProject);
    },

    async createAgent(a: AgentRecord): Promise<void> {
      await writeAgent(a, false);
    },
    async getAgentByEmail(email: string): Promise<AgentRecord | null> {
      const rows = await driver.query<Raw>(
        `SELECT ${AGENT_COLUMNS} FROM ${db}.agents FINAL WHERE lower(email) = lower({email:String}) AND removed = 0
         ORDER BY created_at LIMIT 1`, { email });
      return rows[0] ? toAgent(rows[0]) : null;
    },
    async getAgent(id: string): Promise<AgentRecord | null> {
      const rows = await driver.query<Raw>(`SELECT ${AGENT_COLUMNS} FROM ${db}.agents FINAL WHERE id = {id:String} AND removed = 0`, { id });
      return rows[0] ? toAgent(rows[0]) : null;
    },
    async listAgents(projectId: string): Promise<AgentRecord[]> {
      const rows = await driver.query<Raw>(
        `SELECT ${AGENT_COLUMNS} FROM ${db}.agents FINAL WHERE project_id = {p:String} AND removed = 0 ORDER BY created_at, id`,
        { p: projectId });
      return rows.map(toAgent);
    },
    async setAgentDisabled(projectId: string, agentId: string, disabled: boolean): Promise<boolean> {
      const agent = await agentInProject(projectId, agentId);
      if (!agent) return false;
      await writeAgent({ ...agent, disabled }, false);
      return true;
    },
    async removeAgent(projectId: string, agentId: string): Promise<boolean> {
      const agent = await agentInProject(projectId, agentId);
      if (!agent) return false;
      await writeAgent({ ...agent, disabled: true }, true);
      return true;
    },

    async createApiKey(k: ApiKeyInput): Promise<void> {
      await writeKey(k, false);
    },
    async listApiKeys(projectId: string): Promise<ApiKeyRecord[]> {
      const rows = await driver.query<Raw>(
        `SELECT ${KEY_COLUMNS} FROM ${db}.api_keys FINAL WHERE project_id = {p:String} AND revoked = 0
         ORDER BY created_at DESC, id`, { p: projectId });
      const used = await lastUses(projectId, rows.map((r) => String(r.id)));
      return rows.map((r) => toKey(r, used.get(String(r.id))));
    },
    async revokeApiKey(projectId: string, keyId: string): Promise<boolean> {
      const rows = await driver.query<Raw>(
        `SELECT ${KEY_COLUMNS} FROM ${db}.api_keys FINAL WHERE id = {id:String} AND project_id = {p:String} AND revoked = 0`,
        { id: keyId, p: projectId });
      if (!rows[0]) return false;
      const key = toKey(rows[0], undefined);
      await writeKey(key, true);
      return true;
    },
    async findApiKeyByHash(secretHash: string): Promise<ApiKeyRecord | null> {
      const rows = await driver.query<Raw>(
        `SELECT ${KEY_COLUMNS} FROM ${db}.api_keys FINAL WHERE secret_hash = {h:String} AND revoked = 0 LIMIT 1`, { h: secretHash });
      if (!rows[0]) return null;
      const projectId = String(rows[0].project_id);
      const id = String(rows[0].id);
      return toKey(rows[0], (await lastUses(projectId, [id])).get(id));
    },
    async touchApiKey(projectId: string, keyId: string, at: number): Promise<void> {
      await driver.insert(`${db}.api_key_usage`, [{ project_id: projectId, key_id: keyId, last_used_at: chTime(at) }]);
    },
  };
}
