import { randomBytes, randomUUID } from 'node:crypto';
import type { Store } from '@tandem/storage';
import type { ServerConfig } from './config.js';
import { hashPassword, verifyPassword } from './auth/password.js';

export interface BootstrapResult {
  projectId: string;
  projectKey: string;
  adminEmail: string;
  /** Only set when the admin was created now with a generated password: print it once. */
  generatedPassword?: string;
  createdProject: boolean;
  createdAdmin: boolean;
}

/**
 * First start: creates the default project and an admin agent. Values from the environment win;
 * otherwise random ones are generated (and the password is shown exactly once by the caller).
 *
 * Several backends on one database may start at the same moment (a cluster's first start): each would
 * find no project and create its own, with its own key and admin password. So the look-then-create runs
 * under a lock shared through the database (`store.exclusive`): the first node creates, the others wait
 * and then find what it created (and print no password: theirs would not be the one stored).
 */
export async function bootstrap(store: Store, config: ServerConfig): Promise<BootstrapResult> {
  return store.exclusive('bootstrap', () => bootstrapNow(store, config));
}

async function bootstrapNow(store: Store, config: ServerConfig): Promise<BootstrapResult> {
  const projects = await store.listProjects();
  let project = projects[0];
  let createdProject = false;
  if (!project) {
    project = {
      id: randomUUID().replaceAll('-', ''),
      name: 'Default project',
      key: config.projectKey ?? `pk_${randomBytes(12).toString('base64url')}`,
      allowedOrigins: config.allowedOrigins ?? [],
      createdAt: Date.now(),
      requireConsent: false,
      canvasRecording: 'off',
    };
    await store.createProject(project);
    createdProject = true;
  } else {
    // Env settings win for the default project, but only those actually set: allowed origins are
    // editable in Settings, and an unset TANDEM_ALLOWED_ORIGINS must not wipe them at every start.
    const key = config.projectKey ?? project.key;
    const allowedOrigins = config.allowedOrigins ?? project.allowedOrigins;
    if (key !== project.key || allowedOrigins.join('\n') !== project.allowedOrigins.join('\n')) {
      project = { ...project, key, allowedOrigins };
      await store.createProject(project);
    }
  }

  const adminEmail = (config.adminEmail ?? 'admin@tandem.local').toLowerCase();
  const existing = await store.getAgentByEmail(adminEmail);
  let generatedPassword: string | undefined;
  let createdAdmin = false;
  // Agents can be removed in Settings. An admin named by the environment comes back (the environment
  // wins, as for its password); the default one only while the project has no active admin at all,
  // so removing it does not mint a new random password at every start.
  const fromEnv = !!(config.adminEmail || config.adminPassword);
  const needAdmin = !existing && (fromEnv || !(await store.listAgents(project.id)).some((a) => a.role === 'admin' && !a.disabled));
  if (needAdmin) {
    const password = config.adminPassword ?? randomBytes(9).toString('base64url');
    if (!config.adminPassword) generatedPassword = password;
    await store.createAgent({
      id: randomUUID().replaceAll('-', ''),
      projectId: project.id,
      email: adminEmail,
      name: 'Admin',
      role: 'admin',
      passwordHash: await hashPassword(password),
      createdAt: Date.now(),
      disabled: false,
    });
    createdAdmin = true;
  } else if (existing && config.adminPassword && !(await verifyPassword(config.adminPassword, existing.passwordHash))) {
    // TANDEM_ADMIN_PASSWORD changed: the environment wins.
    await store.createAgent({ ...existing, passwordHash: await hashPassword(config.adminPassword) });
  }
  return { projectId: project.id, projectKey: project.key, adminEmail, generatedPassword, createdProject, createdAdmin };
}
