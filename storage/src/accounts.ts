import { chTime } from './encode.js';
import type { AgentRecord, Driver, ProjectRecord } from './types.js';

/**
 * Projects and agents: small tables written rarely, one row per id in ReplacingMergeTree(version), so
 * "create" is also "update" (the newest version wins) and reads use FINAL.
 */

type Raw = Record<string, unknown>;

const PROJECT_COLUMNS = 'id, name, key, allowed_origins, toUnixTimestamp64Milli(created_at) AS created_at';
const AGENT_COLUMNS = `id, project_id, email, name, role, password_hash, toUnixTimestamp64Milli(created_at) AS created_at, disabled`;

const toProject = (r: Raw): ProjectRecord => ({
  id: String(r.id), name: String(r.name), key: String(r.key),
  allowedOrigins: (r.allowed_origins as string[]) ?? [], createdAt: Number(r.created_at),
});

const toAgent = (r: Raw): AgentRecord => ({
  id: String(r.id), projectId: String(r.project_id), email: String(r.email), name: String(r.name),
  role: r.role === 'admin' ? 'admin' : 'agent', passwordHash: String(r.password_hash),
  createdAt: Number(r.created_at), disabled: Number(r.disabled) === 1,
});

export function createAccounts(driver: Driver, db: string) {
  let lastVersion = 0;
  // Microseconds of wall time, bumped when two writes land in the same microsecond: later write wins.
  const version = () => (lastVersion = Math.max(lastVersion + 1, Date.now() * 1000));

  return {
    async createProject(p: ProjectRecord): Promise<void> {
      await driver.insert(`${db}.projects`, [{
        id: p.id, name: p.name, key: p.key, allowed_origins: p.allowedOrigins, created_at: chTime(p.createdAt), version: version(),
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
      await driver.insert(`${db}.agents`, [{
        id: a.id, project_id: a.projectId, email: a.email, name: a.name, role: a.role, password_hash: a.passwordHash,
        created_at: chTime(a.createdAt), disabled: a.disabled ? 1 : 0, version: version(),
      }]);
    },
    async getAgentByEmail(email: string): Promise<AgentRecord | null> {
      const rows = await driver.query<Raw>(
        `SELECT ${AGENT_COLUMNS} FROM ${db}.agents FINAL WHERE lower(email) = lower({email:String}) ORDER BY created_at LIMIT 1`, { email });
      return rows[0] ? toAgent(rows[0]) : null;
    },
    async getAgent(id: string): Promise<AgentRecord | null> {
      const rows = await driver.query<Raw>(`SELECT ${AGENT_COLUMNS} FROM ${db}.agents FINAL WHERE id = {id:String}`, { id });
      return rows[0] ? toAgent(rows[0]) : null;
    },
  };
}
