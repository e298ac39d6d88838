export { attachLive, type LiveServer } from './attach.js';
export { LiveRegistry, type LiveRegistryOptions, type LiveRegistryDeps } from './registry.js';
export type { AgentIdentity, TabIdentity, SocketData, AssistServer, AssistSocket } from './types.js';
