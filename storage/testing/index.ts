/** Test fixtures (never imported by the product): the ClickHouse-HTTP stand-in over chDB. */
export { startChdbHttpServer, type ChdbHttpServer, type ChdbHttpServerOptions } from './chdb-http-server.js';
export { spawnChdbHttpServer, type SpawnedChdbHttpServer } from './spawn.js';
