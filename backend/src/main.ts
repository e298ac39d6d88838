import { startServer } from './server.js';

/** `npm start`: runs the backend with the environment's settings and prints what a person needs. */
async function main() {
  const server = await startServer();
  const { url, projectKey, admin, config } = server;
  const lines = [
    '',
    '  Tandem is running',
    `  Dashboard      ${url}/`,
    config.demo ? `  Demo site      ${url}/demo/` : '',
    `  Project key    ${projectKey}`,
    `  Snippet        <script src="${url}/tracker.js" data-project-key="${projectKey}" async></script>`,
    `  Admin login    ${admin.email}`,
    admin.generatedPassword
      ? `  Admin password ${admin.generatedPassword}   (generated now and shown only once; set TANDEM_ADMIN_PASSWORD to choose it)`
      : `  Admin password ${process.env.TANDEM_ADMIN_PASSWORD ? '(from TANDEM_ADMIN_PASSWORD)' : '(as generated at first start; set TANDEM_ADMIN_PASSWORD to reset it)'}`,
    `  Data           ${config.clickhouseUrl ? config.clickhouseUrl : config.dataDir}`,
    '',
  ].filter((l) => l !== '');
  process.stdout.write(lines.join('\n') + '\n\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: flushing pending writes and stopping...\n`);
    try {
      await server.close();
      process.exit(0);
    } catch (err) {
      console.error(err);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Start-up failures a person can fix, said in their terms. */
function explain(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  const dataDir = process.env.TANDEM_DATA_DIR || './.tandem-data';
  if (/Cannot lock file|Another server instance|Failed to create connection for path/i.test(`${message} ${cause}`)) {
    return `the data directory ${dataDir} is in use by another Tandem process (embedded ClickHouse allows one process per directory). Stop that one, or set TANDEM_DATA_DIR to another directory.`;
  }
  if (/Cannot listen on/.test(message)) {
    return `${message}: is another process using that port? Set PORT (and HOST) to choose another.`;
  }
  return message;
}

main().catch((err) => {
  console.error(`tandem: ${explain(err)}`);
  process.exit(1);
});
