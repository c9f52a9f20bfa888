#!/usr/bin/env node
// `node scripts/cargo.mjs <args...>`: run cargo with the project's shared
// CARGO_TARGET_DIR default ($HOME/.cache/aico-data/target) and inherited stdio.
import { spawnSync } from 'node:child_process'
import { ROOT, cargoEnv } from './lib.mjs'

const env = cargoEnv()
const args = process.argv.slice(2)
// `napi build` always passes `--target <host triple>`, which puts artifacts in
// target/<triple>/ and builds build scripts separately; cargo commands here do the same so
// that they reuse the addon's build of DuckDB, RocksDB and SQLite3MultipleCiphers.
if (['build', 'test', 'check', 'clippy'].includes(args[0]) && !args.some((a) => a === '--target' || a.startsWith('--target='))) {
  const host = spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout?.match(/^host: (\S+)$/m)?.[1]
  if (host) args.splice(1, 0, '--target', host)
}
console.error(`[cargo.mjs] CARGO_TARGET_DIR=${env.CARGO_TARGET_DIR} cargo ${args.join(' ')}`)
const r = spawnSync('cargo', args, { cwd: ROOT, env, stdio: 'inherit' })
if (r.error) {
  console.error(`[cargo.mjs] cannot run cargo: ${r.error.message} (is Rust installed and ~/.cargo/bin on PATH?)`)
  process.exit(127)
}
process.exit(r.status ?? 1)
