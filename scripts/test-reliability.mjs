// `npm run test:reliability`: the long versions of the reliability suite (__test__/reliability),
// one file at a time, with one seed for the whole run; the figures land in
// __test__/reliability/results/latest.{json,md}. CI's `vitest run` runs the short versions.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = `${root}__test__/reliability/results/`;
rmSync(`${results}latest.json`, { force: true });
rmSync(`${results}latest.md`, { force: true });
const seed = process.env.AICO_RELIABILITY_SEED ?? String(Date.now() % 2_147_483_647);
const run = spawnSync(
  process.execPath,
  [`${root}node_modules/vitest/vitest.mjs`, 'run', '__test__/reliability', '--no-file-parallelism', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, AICO_RELIABILITY: 'long', AICO_RELIABILITY_SEED: seed } },
);
if (existsSync(`${results}latest.md`)) process.stdout.write(`\n${readFileSync(`${results}latest.md`, 'utf8')}`);
process.exit(run.status ?? 1);
