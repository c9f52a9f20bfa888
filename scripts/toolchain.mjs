// Which toolchain builds the native code, shared by build-native.mjs and cargo.mjs.
//
// On Linux the shipped binaries are built with zig (cargo-zigbuild) against an old glibc
// baseline, with libc++ linked statically, so that one binary loads on every glibc distro since
// that baseline. `npm test` and `cargo test` build the same way, so what is tested is what
// ships. AICO_DATA_TOOLCHAIN=system uses the host's gcc/g++ and glibc instead (the binary then
// needs the build machine's glibc and libstdc++).
import { spawnSync } from 'node:child_process'

/** The glibc baseline of the Linux builds (see README "Build"). */
export const GLIBC_BASELINE = '2.17'

export function hostTriple() {
  return spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout?.match(/^host: (\S+)$/m)?.[1]
}

/** True when this host builds with zig (Linux gnu hosts, unless AICO_DATA_TOOLCHAIN=system). */
export function useZig(env = process.env) {
  if (env.AICO_DATA_TOOLCHAIN === 'system') return false
  return process.platform === 'linux' && /-linux-gnu$/.test(hostTriple() ?? '')
}

/** `x86_64-unknown-linux-gnu` -> `x86_64-unknown-linux-gnu.2.17` for a gnu target under zig. */
export function zigTarget(triple) {
  return /-linux-gnu$/.test(triple) ? `${triple}.${GLIBC_BASELINE}` : triple
}

/**
 * Extra compiler flags for zig builds. cargo-zigbuild's `zig cc` wrapper passes `-g` ahead of
 * cc-rs's flags, so DuckDB, RocksDB and SQLite3MultipleCiphers were compiled with full debug
 * info (the shipped binary is stripped anyway): objects several times larger and a slower cold
 * build. `-g0` comes later on the command line and wins. Both build-native.mjs and cargo.mjs
 * must pass the same values, or cc-rs's `rerun-if-env-changed` rebuilds the engines.
 */
export function zigCompileEnv(env = process.env) {
  if (!useZig(env)) return {}
  const add = (flags) => (/(^|\s)-g0(\s|$)/.test(flags ?? '') ? flags : `${flags ? `${flags} ` : ''}-g0`)
  return { CFLAGS: add(env.CFLAGS), CXXFLAGS: add(env.CXXFLAGS) }
}
