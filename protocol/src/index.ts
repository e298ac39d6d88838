export * from './version.js';
export * from './errors.js';
export * from './events.js';
export * from './ingest.js';
export * from './api.js';
export * from './assist.js';
export * from './signal.js';
export * from './guard.js';
