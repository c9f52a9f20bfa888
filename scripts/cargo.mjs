#!/usr/bin/env node
// `node scripts/cargo.mjs <args...>`: run cargo with the project's shared
// CARGO_TARGET_DIR default ($HOME/.cache/aico-data/target) and inherited stdio.
import { spawnSync } from 'node:child_process'
import { ROOT, cargoEnv } from './lib.mjs'
import { hostTriple, useZig, zigCompileEnv, zigTarget } from './toolchain.mjs'
import { ensurePrereqsOrExit } from './prereqs.mjs'

const env = cargoEnv()
Object.assign(env, ensurePrereqsOrExit({ env }))
Object.assign(env, zigCompileEnv(env))
const args = process.argv.slice(2)
// `napi build` always passes `--target <host triple>`, which puts artifacts in
// target/<triple>/ and builds build scripts separately; cargo commands here do the same so
// that they reuse the addon's build of DuckDB, RocksDB and SQLite3MultipleCiphers.
if (['build', 'test', 'check', 'clippy'].includes(args[0]) && !args.some((a) => a === '--target' || a.startsWith('--target='))) {
  const host = hostTriple()
  if (host) args.splice(1, 0, '--target', useZig(env) ? zigTarget(host) : host)
}
// `-p <crate>` alone resolves features differently from the workspace (proc-macro crates pull
// other `syn` features), which changes build-script fingerprints and rebuilds DuckDB's C++ for
// 40 minutes. Build and test the whole workspace instead: the binding crate has no tests.
if (['build', 'test', 'check', 'clippy'].includes(args[0])) {
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '-p' || args[i] === '--package') {
      console.error(`[cargo.mjs] ignoring ${args[i]} ${args[i + 1]}: using --workspace (same features as the addon build, no DuckDB rebuild)`)
      args.splice(i, 2)
      i--
    } else if (args[i].startsWith('--package=') || /^-p\S/.test(args[i])) {
      console.error(`[cargo.mjs] ignoring ${args[i]}: using --workspace`)
      args.splice(i, 1)
      i--
    }
  }
  if (!args.includes('--workspace')) args.splice(1, 0, '--workspace')
}
// Under zig (see toolchain.mjs) `cargo-zigbuild <cmd>` wraps cargo with zig as C/C++ compiler and
// linker, exactly as `napi build -x` does for the addon, so tests reuse the addon's engine build.
const zig = useZig(env) && ['build', 'test', 'check', 'clippy', 'run'].includes(args[0])
const program = zig ? 'cargo-zigbuild' : 'cargo'
if (zig && args[0] === 'build') args[0] = 'zigbuild'
console.error(`[cargo.mjs] CARGO_TARGET_DIR=${env.CARGO_TARGET_DIR} ${program} ${args.join(' ')}`)
const r = spawnSync(program, args, { cwd: ROOT, env, stdio: 'inherit' })
if (r.error) {
  console.error(`[cargo.mjs] cannot run cargo: ${r.error.message} (is Rust installed and ~/.cargo/bin on PATH?)`)
  process.exit(127)
}
process.exit(r.status ?? 1)
