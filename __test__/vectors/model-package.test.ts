/**
 * The npm package of the weights, end to end: `scripts/model/pack-minilm.mjs` packs the verified
 * cached model into `aico-data-model-minilm-<v>.tgz`, the tarball installs (offline) into an empty
 * project, and a process started in that project finds the package (`findMiniLmDir()` says
 * `source: 'package'`, and so does `doctor`), loads it and embeds; a flipped byte in the installed
 * `model.safetensors` makes the load fail with `CORRUPT`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, ensureBuilt } from '../cli/helpers.js';

// The source of the package: the fetched cache (or AICO_DATA_MINILM_DIR), as pack-minilm.mjs reads it.
const source = process.env.AICO_DATA_MINILM_DIR || join(homedir(), '.cache', 'aico-data', 'models', 'all-MiniLM-L6-v2');
const present = existsSync(join(source, 'model.safetensors'));
if (!present && process.env.AICO_DATA_REQUIRE_MODEL) throw new Error(`AICO_DATA_REQUIRE_MODEL is set but the model is not at ${source}`);
const why = present ? '' : ` (skipped: no model at ${source}; run \`node scripts/model/fetch-minilm.mjs\`)`;

const tmp = mkdtempSync(join(tmpdir(), 'aico-model-pkg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The child's environment: no AICO_DATA_MINILM_DIR, so the package must be found by resolution.
const childEnv = () => {
  const env = { ...process.env };
  delete env.AICO_DATA_MINILM_DIR;
  return env;
};

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr, ms: Math.round(performance.now() - t0) };
}

// Runs in the installed project: resolution, load, embed, then a flipped byte and a second load.
const CHILD = `
import { openSync, readSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
const { findMiniLmDir, MiniLmEmbedder } = await import(process.env.EMBEDDER_MODULE);
const loc = findMiniLmDir();
const t0 = performance.now();
const model = await MiniLmEmbedder.load();
const loadMs = Math.round(performance.now() - t0);
const [v] = await model.embed(['Ada loves green tea.']);
let norm = 0;
for (const x of v) norm += x * x;
const file = join(loc.dir, 'model.safetensors');
const fd = openSync(file, 'r+');
const at = Math.floor(statSync(file).size / 2);
const b = Buffer.alloc(1);
readSync(fd, b, 0, 1, at);
b[0] ^= 0xff;
writeSync(fd, b, 0, 1, at);
closeSync(fd);
const err = await MiniLmEmbedder.load(loc.dir).then(() => undefined, (e) => ({ code: e.code, message: e.message }));
console.log(JSON.stringify({ loc, modelDir: model.dir, loadMs, dims: v.length, norm: Math.sqrt(norm), err }));
`;

describe.skipIf(!present)(`the aico-data-model-minilm package${why}`, () => {
  it('packs, installs offline, is found from the app, loads and embeds; a flipped byte is CORRUPT', async () => {
    await ensureBuilt();
    const pack = run(process.execPath, [join(ROOT, 'scripts/model/pack-minilm.mjs'), '--out', join(tmp, 'out'), '--stage', join(tmp, 'stage')], ROOT);
    const tarball = pack.stdout.trim().split('\n').at(-1)!;
    expect(tarball).toMatch(/aico-data-model-minilm-\d+\.\d+\.\d+.*\.tgz$/);
    const size = statSync(tarball).size;
    expect(size).toBeGreaterThan(50e6); // the weights are in it
    expect(size).toBeLessThan(100e6);

    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const install = run(npm, ['install', tarball, '--no-audit', '--no-fund', '--offline', '--no-package-lock'], app);
    const installed = join(app, 'node_modules', 'aico-data-model-minilm');
    expect(existsSync(join(installed, 'model', 'model.safetensors'))).toBe(true);

    // doctor, started in the app, reports the package (before the byte is flipped).
    const doctor = JSON.parse(run(process.execPath, [CLI, 'doctor', '--json'], app, childEnv()).stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
    const check = doctor.checks.find((c) => c.name === 'embedder')!;
    expect(check.status).toBe('ok');
    expect(check.detail).toContain('source: package');
    expect(check.detail).toContain(join(installed, 'model'));

    const env = { ...childEnv(), EMBEDDER_MODULE: pathToFileURL(join(ROOT, 'dist', 'stores', 'vectors', 'minilm-embedder.js')).href };
    const child = run(process.execPath, ['--input-type=module', '-e', CHILD], app, env);
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      loc: { dir: string; source: string; why: string };
      modelDir: string;
      loadMs: number;
      dims: number;
      norm: number;
      err?: { code: string; message: string };
    };
    expect(r.loc.source).toBe('package');
    expect(r.loc.dir).toBe(join(installed, 'model'));
    expect(r.modelDir).toBe(r.loc.dir);
    expect(r.dims).toBe(384);
    expect(r.norm).toBeCloseTo(1, 4);
    expect(r.err?.code).toBe('CORRUPT');
    expect(r.err?.message).toContain('model.safetensors');
    console.log(
      `[model-package] tarball ${(size / 1048576).toFixed(1)} MiB; pack ${pack.ms} ms, npm install ${install.ms} ms, load ${r.loadMs} ms (child total ${child.ms} ms)`,
    );
  }, 120_000);
});
