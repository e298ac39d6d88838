import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

// CI reads the last line of `npm test`. A file whose beforeAll throws shows its tests as skipped:
// the line must still count a failure, or a broken suite would read "0 failed".
const ROOT = path.resolve(new URL('../../', import.meta.url).pathname);
const dir = mkdtempSync(path.join(tmpdir(), 'tandem-closing-line-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(files: Record<string, string>): { line: string; status: number | null } {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  writeFileSync(path.join(dir, 'vitest.config.mjs'), 'export default { test: { include: ["*.check.ts"] } };\n');
  const res = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--reporter', path.join(ROOT, 'scripts/closing-line-reporter.ts')],
    { cwd: ROOT, encoding: 'utf8', timeout: 50_000 },
  );
  const lines = res.stdout.trim().split('\n');
  return { line: lines[lines.length - 1] ?? '', status: res.status };
}

it('counts a file whose beforeAll threw as failed, next to the passing ones', () => {
  const res = run({
    'good.check.ts': "import { it, expect } from 'vitest';\nit('passes', () => expect(1).toBe(1));\n",
    'hook.check.ts':
      "import { beforeAll, it, expect } from 'vitest';\nbeforeAll(() => { throw new Error('on purpose'); });\nit('never runs', () => expect(1).toBe(1));\n",
  });
  expect(res.line).toBe('1 passed, 1 failed, 1 skipped');
  expect(res.status).toBe(1);
}, 60_000);
