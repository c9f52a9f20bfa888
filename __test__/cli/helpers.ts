/**
 * Drives the built command (`node dist/cli/main.js`) as a subprocess. `ensureBuilt()` runs
 * `tsc -p tsconfig.build.json` when `dist/cli/main.js` is missing or older than a source file
 * (under a lock: several test files may ask at once).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const FIXTURES = join(ROOT, '__test__', 'cli', 'fixtures');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

/** Builds `dist/` when it is older than `src/`. */
export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, 'dist', '.cli-test-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run (a build takes well under two minutes) is stale.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another test holds ${lock} for too long`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestSource(join(ROOT, 'src'))) return;
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    // Type errors elsewhere in the tree still emit; only a missing entry point is fatal.
    const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(CLI)) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** What one run of the command gave. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Extra environment (AICO_DATA_* from the test's own environment but AICO_DATA_EMBEDDER are removed first). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then closed (default: stdin closed at once, i.e. not a terminal). */
  input?: string;
  timeoutMs?: number;
}

/** Runs `node dist/cli/main.js ...args`. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  // The suite's embedder pin (vitest.config.ts) stays: a command's new folder gets what the test's would.
  for (const k of Object.keys(env)) if (k.startsWith('AICO_DATA_') && k !== 'AICO_DATA_EMBEDDER') delete env[k];
  Object.assign(env, options.env);
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Parses the command's JSON output, showing the whole run when it is not JSON. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
