// Tests drive Debian's Chromium through playwright-core; install it when missing (CI starts without it).
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  const sudo = process.getuid && process.getuid() === 0 ? '' : 'sudo ';
  console.log(`[ensure-chromium] ${CHROMIUM} missing: installing Debian's chromium with apt-get`);
  execSync(`${sudo}apt-get update -qq && ${sudo}DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium`, { stdio: 'inherit' });
}
