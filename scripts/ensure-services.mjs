// The cluster tests, benchmarks and `npm run cluster` run Debian's redis-server and haproxy on loopback
// (issue 9). Install them when missing, as ensure-chromium.mjs does for Chromium (CI starts without them).
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const wanted = [
  { bin: '/usr/bin/redis-server', pkg: 'redis-server' },
  { bin: '/usr/sbin/haproxy', pkg: 'haproxy' },
];
const missing = wanted.filter((w) => !existsSync(w.bin)).map((w) => w.pkg);
if (missing.length) {
  const sudo = process.getuid && process.getuid() === 0 ? '' : 'sudo ';
  console.log(`[ensure-services] missing: ${missing.join(', ')}: installing with apt-get`);
  execSync(`${sudo}apt-get update -qq && ${sudo}DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`, { stdio: 'inherit' });
  // Debian starts the packaged redis-server as a service on port 6379; the tests start their own on
  // free ports and need nothing of it, so leave it be (stopping it could stop a user's own Redis).
}
