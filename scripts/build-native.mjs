#!/usr/bin/env node
// Build the native addon with the napi-rs v3 CLI:
//
//   napi build --platform --esm --manifest-path crates/aico-data-node/Cargo.toml \
//              --output-dir . --js index.js --dts index.d.ts [extra args...]
//
// No --release: the workspace has one cargo profile, `dev` (optimised), shared
// with `cargo test`. The binary lands at ./aico-data.<platform>.node and the ES
// module loader at ./index.js (+ ./index.d.ts).
//
// If ./aico-data.<host platform>.node, index.js and index.d.ts exist and the
// binary is newer than every file under crates/ and Cargo.toml/Cargo.lock, the
// cargo build is skipped. Force it with --force or AICO_DATA_FORCE_NATIVE=1.
// Extra args (e.g. `--target aarch64-unknown-linux-gnu --use-napi-cross`) are
// passed to `napi build` and always build.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ROOT, cargoEnv, hostPlatformSuffix } from './lib.mjs'
import { hostTriple, useZig, zigCompileEnv, zigTarget } from './toolchain.mjs'
import { ensurePrereqsOrExit } from './prereqs.mjs'

const BINARY_NAME = 'aico-data'
let extra = process.argv.slice(2)
const force = extra.includes('--force') || process.env.AICO_DATA_FORCE_NATIVE === '1'
extra = extra.filter((a) => a !== '--force')

function newestMtime(path) {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = st.mtimeMs
  for (const entry of readdirSync(path)) {
    if (entry === 'target' || entry === 'node_modules' || entry === '.git') continue
    newest = Math.max(newest, newestMtime(join(path, entry)))
  }
  return newest
}

function upToDate() {
  const binary = join(ROOT, `${BINARY_NAME}.${hostPlatformSuffix()}.node`)
  if (![binary, join(ROOT, 'index.js'), join(ROOT, 'index.d.ts')].every((p) => existsSync(p))) return null
  const sources = ['crates', 'Cargo.toml', 'Cargo.lock'].map((p) => join(ROOT, p)).filter((p) => existsSync(p))
  const newestSource = Math.max(...sources.map(newestMtime))
  return statSync(binary).mtimeMs > newestSource ? binary : null
}

if (!force && extra.length === 0) {
  const binary = upToDate()
  if (binary) {
    console.log(`[build-native] skipped cargo build: ${binary} is newer than crates/, Cargo.toml and Cargo.lock`)
    process.exit(0)
  }
}

const require = createRequire(import.meta.url)
const cliPkgPath = require.resolve('@napi-rs/cli/package.json')
const napiCli = join(dirname(cliPkgPath), require(cliPkgPath).bin.napi)
// Linux: zig against the glibc baseline (toolchain.mjs), the way the shipped binary is built.
if (useZig() && !extra.some((a) => a === '--target' || a.startsWith('--target=') || a === '-t')) {
  extra = ['-x', '--target', zigTarget(hostTriple()), ...extra]
}
const args = [
  'build',
  '--platform',
  '--esm',
  '--manifest-path', 'crates/aico-data-node/Cargo.toml',
  '--output-dir', '.',
  '--js', 'index.js',
  '--dts', 'index.d.ts',
  ...extra,
]
// Fail early with a one-line fix when cmake, libclang, a C++20 compiler or zig is missing.
const env = { ...cargoEnv(), ...ensurePrereqsOrExit() }
Object.assign(env, zigCompileEnv(env))
console.log(`[build-native] CARGO_TARGET_DIR=${env.CARGO_TARGET_DIR} napi ${args.join(' ')}`)
const started = Date.now()
const r = spawnSync(process.execPath, [napiCli, ...args], { cwd: ROOT, env, stdio: 'inherit' })
if (r.error) throw r.error
if (r.status !== 0) {
  console.error(`[build-native] napi build failed (exit ${r.status ?? r.signal})`)
  process.exit(r.status ?? 1)
}
console.log(`[build-native] done in ${((Date.now() - started) / 1000).toFixed(1)}s`)
