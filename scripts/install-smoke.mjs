#!/usr/bin/env node
// Install the package the way a user does, from the tarballs, on a machine without a toolchain:
// pack the root and this platform's package, `npm install` both into an empty temp project with
// cargo, cmake, clang and compilers absent from PATH, then run `npx aico-data doctor`,
// `npx aico-data demo --messages 2000` and the smoke suite there. Prints the install time.
//
//   node scripts/install-smoke.mjs [--keep]        (needs dist/ and ./aico-data.<platform>.node)
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, hostPlatformSuffix } from './lib.mjs'

const keep = process.argv.includes('--keep')
const suffix = hostPlatformSuffix()
const version = JSON.parse(spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: ROOT, encoding: 'utf8' }).stdout).version

function step(name, cmd, args, opts = {}) {
  const t0 = Date.now()
  console.log(`[install-smoke] ${name}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts })
  const s = ((Date.now() - t0) / 1000).toFixed(1)
  if (r.status !== 0) {
    console.error(`[install-smoke] FAILED: ${name} (exit ${r.status ?? r.signal}, ${s} s)`)
    process.exit(1)
  }
  console.log(`[install-smoke] ${name}: ok in ${s} s`)
  return Number(s)
}

step('pack root', process.execPath, ['scripts/pack.mjs', 'root'], { cwd: ROOT })
step(`pack ${suffix}`, process.execPath, ['scripts/pack.mjs', 'platform', suffix], { cwd: ROOT })
const artifacts = join(ROOT, 'artifacts')
const rootTgz = join(artifacts, `aico-data-${version}.tgz`)
const platformTgz = join(artifacts, `aico-data-${suffix}-${version}.tgz`)

// A PATH with node and a shell only: no cargo, rustc, cmake, clang, cc, c++, make, zig, python.
const work = mkdtempSync(join(tmpdir(), 'aico-install-'))
const bin = join(work, 'bin')
mkdirSync(bin)
const nodeBin = join(process.execPath, '..')
for (const f of readdirSync(nodeBin)) if (['node', 'npm', 'npx'].includes(f)) symlinkSync(join(nodeBin, f), join(bin, f))
for (const tool of ['sh', 'bash', 'env', 'uname', 'cat', 'ls']) {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
  if (r.status === 0) symlinkSync(r.stdout.trim(), join(bin, tool))
}
const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' }
for (const k of ['CARGO_TARGET_DIR', 'npm_config_nodedir', 'CC', 'CXX', 'LIBCLANG_PATH']) delete env[k]
for (const tool of ['cargo', 'rustc', 'cmake', 'clang', 'cc', 'c++', 'gcc', 'make', 'zig', 'python3']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status === 0) {
    console.error(`[install-smoke] ${tool} is still on the restricted PATH`)
    process.exit(1)
  }
}

const project = join(work, 'app')
mkdirSync(project)
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'aico-install-smoke', private: true, type: 'module' }, null, 2))
copyFileSync(join(ROOT, 'scripts', 'smoke.mjs'), join(project, 'smoke.mjs'))
const t0 = Date.now()
const installS = step('npm install (tarballs, dependencies from the npm cache)', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', rootTgz, platformTgz], { cwd: project, env })
const dataDir = join(work, 'data')
const cli = { cwd: project, env: { ...env, AICO_DATA_PASSWORD: 'install smoke password' } }
const doctorS = step('npx aico-data doctor', 'npx', ['aico-data', 'doctor'], cli)
const demoS = step('npx aico-data demo --messages 2000', 'npx', ['aico-data', 'demo', '--messages', '2000', '--dir', dataDir], cli)
const smokeS = step('smoke suite', 'node', ['smoke.mjs'], cli)
const total = ((Date.now() - t0) / 1000).toFixed(1)
console.log(`[install-smoke] from tarballs: install ${installS} s, doctor ${doctorS} s, demo ${demoS} s, smoke ${smokeS} s; total ${total} s`)
if (!keep) rmSync(work, { recursive: true, force: true })
else console.log(`[install-smoke] kept ${work}`)
