#!/usr/bin/env node
// Check what a source build of the addon needs before cargo starts, so that a missing tool is
// one clear line instead of a bindgen panic forty minutes into the build:
//   Rust >= 1.88, cmake (DuckDB, RocksDB), libclang (bindgen for RocksDB), a C++20 compiler
//   (RocksDB 11), and on Linux zig + cargo-zigbuild (the shipped toolchain, see toolchain.mjs).
// A missing system package is installed when running as root with apt-get (a fresh Debian or
// Ubuntu machine); zig and cargo-zigbuild come from PyPI into a private virtualenv under
// ~/.cache/aico-data/tools (no root needed). Otherwise the build stops with the command to run.
// A machine that uses a prebuilt binary never gets here.
//
//   node scripts/prereqs.mjs          check (and install where allowed), exit 1 with a message
//   AICO_DATA_NO_INSTALL=1            check only, never install
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useZig } from './toolchain.mjs'

const ZIG_PINS = ['ziglang==0.17.1', 'cargo-zigbuild==0.24.1']
export const TOOLS_DIR = join(homedir(), '.cache', 'aico-data', 'tools')
const TOOLS_BIN = join(TOOLS_DIR, process.platform === 'win32' ? 'Scripts' : 'bin')

class Missing extends Error {}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts })
  return r.error ? { status: -1, stdout: '', stderr: String(r.error.message) } : r
}
const works = (cmd, args, env) => run(cmd, args, { env }).status === 0
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = () => process.platform === 'linux' && works('apt-get', ['--version'])
const canInstall = () => process.env.AICO_DATA_NO_INSTALL !== '1'

function aptInstall(pkgs, why) {
  if (!canInstall() || !isRoot() || !hasApt()) {
    const sudo = isRoot() ? '' : 'sudo '
    const how = hasApt() ? `${sudo}apt-get install -y ${pkgs.join(' ')}` : `install ${pkgs.join(', ')} with your package manager`
    throw new Missing(`${why}: run \`${how}\``)
  }
  console.log(`[prereqs] ${why}: apt-get install -y ${pkgs.join(' ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // A fresh machine has no package lists yet.
  run('apt-get', ['update', '-q'], { env, stdio: 'inherit' })
  const r = run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env, stdio: 'inherit' })
  if (r.status !== 0) throw new Missing(`${why}: \`apt-get install -y ${pkgs.join(' ')}\` failed`)
}

function checkRust() {
  const v = run('rustc', ['--version']).stdout?.match(/rustc (\d+)\.(\d+)/)
  if (!v) throw new Missing('Rust is not installed: install it with rustup (https://rustup.rs), version 1.88 or newer')
  if (+v[1] === 1 && +v[2] < 88) throw new Missing(`Rust ${v[1]}.${v[2]} is too old: run \`rustup update stable\` (1.88 or newer)`)
}

function checkCmake() {
  if (!works('cmake', ['--version'])) aptInstall(['cmake'], 'cmake is missing (DuckDB and RocksDB build with it)')
}

function libclangFound() {
  if (process.env.LIBCLANG_PATH && existsSync(process.env.LIBCLANG_PATH)) return true
  if (process.platform !== 'linux') return true // macOS (Xcode) and Windows (LLVM) runners ship it
  const dirs = ['/usr/lib', '/usr/lib64', '/usr/local/lib', `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`]
  try {
    for (const d of readdirSync('/usr/lib')) if (d.startsWith('llvm-')) dirs.push(join('/usr/lib', d, 'lib'))
  } catch {}
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => /^libclang(-\d+)?\.so/.test(f))
    } catch {
      return false
    }
  })
}

function checkLibclang() {
  if (!libclangFound()) aptInstall(['libclang-dev', 'clang'], 'libclang is missing (bindgen generates the RocksDB bindings with it)')
}

function checkSystemCxx20() {
  const cxx = process.env.CXX || 'c++'
  const probe = run(cxx, ['-std=c++20', '-x', 'c++', '-fsyntax-only', '-'], { input: '#include <span>\n#include <concepts>\nint main(){}\n' })
  if (probe.status !== 0) aptInstall(['build-essential'], `no C++20 compiler (${cxx} -std=c++20 failed; RocksDB needs C++20)`)
}

/** zig and cargo-zigbuild on PATH, or in the private virtualenv (installed there when missing). */
function ensureZig(env) {
  const withTools = { ...env, PATH: `${TOOLS_BIN}${delimiter}${env.PATH ?? ''}` }
  const zigOk = (e) => works('cargo-zigbuild', ['--version'], e) && (works('zig', ['version'], e) || works('python3', ['-m', 'ziglang', 'version'], e))
  if (zigOk(env)) return {}
  if (zigOk(withTools)) return { PATH: withTools.PATH }
  const cmd = `python3 -m venv ${TOOLS_DIR} && ${join(TOOLS_BIN, 'pip')} install ${ZIG_PINS.join(' ')}`
  if (!canInstall()) throw new Missing(`zig and cargo-zigbuild are missing (the Linux build uses them): run \`${cmd}\``)
  if (!works('python3', ['--version'])) aptInstall(['python3', 'python3-venv'], 'python3 is missing (zig comes from PyPI)')
  if (!existsSync(join(TOOLS_BIN, 'pip'))) {
    let r = run('python3', ['-m', 'venv', TOOLS_DIR], { stdio: 'inherit' })
    if (r.status !== 0) {
      aptInstall(['python3-venv'], 'python3 cannot create a virtualenv')
      r = run('python3', ['-m', 'venv', TOOLS_DIR], { stdio: 'inherit' })
      if (r.status !== 0) throw new Missing(`cannot create ${TOOLS_DIR}: run \`${cmd}\``)
    }
  }
  console.log(`[prereqs] installing ${ZIG_PINS.join(' ')} into ${TOOLS_DIR}`)
  const r = run(join(TOOLS_BIN, 'pip'), ['install', '-q', ...ZIG_PINS], { stdio: 'inherit' })
  if (r.status !== 0 || !zigOk(withTools)) throw new Missing(`installing zig failed: run \`${cmd}\``)
  return { PATH: withTools.PATH }
}

/**
 * Check (and where allowed install) the build prerequisites. Returns the environment
 * additions the build needs (PATH with the private zig); throws with a one-line fix otherwise.
 * `{ compile: false }` checks only what `cargo` needs to run on an already-built tree.
 */
export function ensurePrereqs({ compile = true, env = process.env } = {}) {
  checkRust()
  const zig = useZig(env)
  if (compile) {
    checkCmake()
    checkLibclang()
    if (!zig) checkSystemCxx20() // zig ships clang and libc++ with C++20
  }
  return zig ? ensureZig(env) : {}
}

/** Like {@link ensurePrereqs}, but prints the one-line fix and exits 1 on a missing tool. */
export function ensurePrereqsOrExit(opts) {
  try {
    return ensurePrereqs(opts)
  } catch (e) {
    if (!(e instanceof Missing)) throw e
    console.error(`[prereqs] ${e.message}`)
    process.exit(1)
  }
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const extra = ensurePrereqsOrExit()
  console.log(`[prereqs] ok${extra.PATH ? ` (zig from ${TOOLS_BIN})` : ''}`)
}
