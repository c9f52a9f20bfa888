#!/usr/bin/env node
// Print what a Linux addon needs from the system and fail when it needs more than the stated
// baseline: the highest GLIBC_ symbol version it imports, its NEEDED libraries (libstdc++ or
// libgcc_s there means the C++ runtime was not linked statically), and its size.
//
//   node scripts/check-binary.mjs [file.node ...]      (default: ./aico-data.*.node)
//   --max-glibc 2.17                                   (default: the baseline of toolchain.mjs)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './lib.mjs'
import { GLIBC_BASELINE } from './toolchain.mjs'

const args = process.argv.slice(2)
let max = GLIBC_BASELINE
const i = args.indexOf('--max-glibc')
if (i >= 0) {
  max = args[i + 1]
  args.splice(i, 2)
}
const files = args.length ? args : readdirSync(ROOT).filter((f) => /^aico-data\..*linux.*\.node$/.test(f)).map((f) => join(ROOT, f))
if (!files.length) {
  console.error('[check-binary] no ./aico-data.linux-*.node: build one first (npm run build:native)')
  process.exit(1)
}

const cmpVersion = (a, b) => {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) if ((pa[k] ?? 0) !== (pb[k] ?? 0)) return (pa[k] ?? 0) - (pb[k] ?? 0)
  return 0
}
/** Forbidden in NEEDED: the C++ runtime must be inside the binary (libc++ via zig). */
const FORBIDDEN = /^(libstdc\+\+|libc\+\+|libgcc_s)/
let failed = false
for (const file of files) {
  const r = spawnSync('readelf', ['--dyn-syms', '--dynamic', '-W', file], { encoding: 'utf8', maxBuffer: 256 << 20 })
  if (r.status !== 0) {
    console.error(`[check-binary] readelf failed on ${file}: ${r.stderr || r.error}`)
    process.exit(1)
  }
  const needed = [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1])
  const versions = new Map()
  for (const m of r.stdout.matchAll(/ UND (\S+)@GLIBC_([0-9.]+)/g)) {
    const list = versions.get(m[2]) ?? []
    list.push(m[1])
    versions.set(m[2], list)
  }
  const sorted = [...versions.keys()].sort(cmpVersion)
  const highest = sorted.at(-1) ?? 'none'
  const over = sorted.filter((v) => cmpVersion(v, max) > 0)
  const bad = needed.filter((n) => FORBIDDEN.test(n))
  const mb = (statSync(file).size / 1e6).toFixed(1)
  console.log(`${file}\n  size: ${mb} MB\n  highest GLIBC_ symbol version: ${highest} (baseline ${max})\n  NEEDED: ${needed.join(', ')}`)
  for (const v of over) console.log(`  over the baseline: GLIBC_${v}: ${versions.get(v).slice(0, 8).join(', ')}`)
  if (bad.length) console.log(`  C++ runtime linked dynamically: ${bad.join(', ')}`)
  if (over.length || bad.length) failed = true
}
if (failed) {
  console.error(`[check-binary] FAILED: a binary needs more than glibc ${max} or a shared C++ runtime`)
  process.exit(1)
}
console.log(`[check-binary] ok: every binary needs at most glibc ${max} and no shared C++ runtime`)
