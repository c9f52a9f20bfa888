// Shared helpers for the build scripts (plain Node, no dependencies).
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))

/**
 * One cargo target dir shared by `napi build` and `cargo test` (and by every
 * clone on this machine), so the long C/C++ build of the engines happens once.
 */
export function cargoEnv(env = process.env) {
  const out = { ...env }
  if (!out.CARGO_TARGET_DIR) out.CARGO_TARGET_DIR = join(homedir(), '.cache', 'aico-data', 'target')
  return out
}

/** The napi-rs platform suffix of this host, e.g. `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
export function hostPlatformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}
