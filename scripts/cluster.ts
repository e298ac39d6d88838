/**
 * `npm run cluster`: a local demo cluster on this machine (issue 9) — Redis, the chDB HTTP stand-in as
 * the shared store, two backend nodes and haproxy in front, all on loopback. Prints the public URL, the
 * admin login and each node's port and PID, so you can try failover: `kill -9 <pid>` one node and
 * watch its tabs come back through the other. Ctrl-C stops everything and deletes the data (a temp dir).
 *
 * CLUSTER_PORT (haproxy, default 4300), CLUSTER_NODES (default 2), TANDEM_ADMIN_EMAIL/PASSWORD.
 */
import { randomBytes } from 'node:crypto';
import { startCluster } from '../e2e/tests/support/cluster.js';

const port = Number(process.env.CLUSTER_PORT ?? 4300);
const count = Number(process.env.CLUSTER_NODES ?? 2);
const email = process.env.TANDEM_ADMIN_EMAIL || 'admin@tandem.local';
const password = process.env.TANDEM_ADMIN_PASSWORD || randomBytes(9).toString('base64url');

console.log(`Starting Redis, the store, ${count} backend nodes and haproxy...`);
const cluster = await startCluster({
  nodes: count,
  ports: { haproxy: port },
  env: { TANDEM_ADMIN_EMAIL: email, TANDEM_ADMIN_PASSWORD: password, TANDEM_PUBLIC_URL: `http://127.0.0.1:${port}` },
});
const lines = [
  '',
  '  Tandem cluster is running',
  `  Public URL     ${cluster.url}/   (haproxy ${cluster.haproxyPid}; demo site ${cluster.url}/demo/)`,
  `  Admin login    ${email}`,
  `  Admin password ${password}${process.env.TANDEM_ADMIN_PASSWORD ? ' (from TANDEM_ADMIN_PASSWORD)' : ' (generated for this run)'}`,
  ...cluster.nodes.map((n) => `  Node ${n.name}         port ${n.port}, PID ${n.pid()}   (${n.url}/readyz, ${n.url}/metrics)`),
  `  Redis          ${cluster.redisUrl} (PID ${cluster.redisPid})`,
  `  Store          ${cluster.clickhouseUrl} (chDB HTTP stand-in, data in ${cluster.dir}, deleted on exit)`,
  '',
  `  Try failover:  kill -9 ${cluster.nodes[1].pid()}   (node b; its tabs reconnect through haproxy to node a)`,
  `  Try a drain:   kill ${cluster.nodes[0].pid()}      (node a moves its sockets away, then exits)`,
  '  Ctrl-C stops everything.',
  '',
];
console.log(lines.join('\n'));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the cluster...');
  await cluster.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {}, 1 << 30);
