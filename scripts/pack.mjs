#!/usr/bin/env node
// Build the npm tarballs, napi-rs style: a small root package (JS + types, no binary) whose
// optionalDependencies name one package per platform, each holding exactly its one `.node`.
//
//   node scripts/pack.mjs root                      -> artifacts/aico-data-<v>.tgz
//   node scripts/pack.mjs platform [suffix] [--from FILE]
//                                                   -> artifacts/aico-data-<suffix>-<v>.tgz
//                                                      (+ artifacts/aico-data.<suffix>.node.debug)
//
// The root's optionalDependencies are added here, at pack time (as `napi prepublish` does), not
// in the repo's package.json: the platform packages are not on the registry until they are
// published, and `npm ci` refuses a lockfile that cannot name them. The platform binary is
// stripped; its debug information goes to a separate `.debug` artifact.
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, hostPlatformSuffix } from './lib.mjs'

const ARTIFACTS = join(ROOT, 'artifacts')
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
// A platform package names its cpu; npm/model-minilm/ (the model weights, built by
// scripts/model/pack-minilm.mjs) is not one and never an optional dependency of the root.
const platforms = readdirSync(join(ROOT, 'npm')).filter((d) => {
  const f = join(ROOT, 'npm', d, 'package.json')
  return existsSync(f) && Array.isArray(JSON.parse(readFileSync(f, 'utf8')).cpu)
})

function npmPack(dir) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['pack', '--json', '--pack-destination', ARTIFACTS], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' })
  if (r.status !== 0) throw new Error(`npm pack failed in ${dir}:\n${r.stderr}`)
  const [info] = JSON.parse(r.stdout)
  return { file: join(ARTIFACTS, info.filename), files: info.files.map((f) => f.path), size: info.size }
}

function packRoot() {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first')
  const stage = join(ARTIFACTS, 'stage-root')
  rmSync(stage, { recursive: true, force: true })
  mkdirSync(stage, { recursive: true })
  for (const f of rootPkg.files) {
    const src = join(ROOT, f)
    if (existsSync(src)) cpSync(src, join(stage, f), { recursive: true })
  }
  const pkg = { ...rootPkg }
  delete pkg.devDependencies
  delete pkg.scripts
  pkg.optionalDependencies = {
    ...(rootPkg.optionalDependencies ?? {}),
    ...Object.fromEntries(platforms.map((p) => [`aico-data-${p}`, rootPkg.version])),
  }
  writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const out = npmPack(stage)
  const binaries = out.files.filter((f) => f.endsWith('.node'))
  if (binaries.length) throw new Error(`the root tarball must hold no .node file, found: ${binaries.join(', ')}`)
  return out
}

function strip(src, dest, suffix) {
  copyFileSync(src, dest)
  if (!suffix.startsWith('linux')) return null
  // Debian's binutils strip only knows the host's ELF machine; cross binaries use the cross one.
  const prefix = suffix.startsWith('linux-arm64') && process.arch !== 'arm64' ? 'aarch64-linux-gnu-' : ''
  const debug = join(ARTIFACTS, `aico-data.${suffix}.node.debug`)
  // zig's linker already leaves debug sections out: then there is nothing to keep or strip.
  const sections = spawnSync(`${prefix}readelf`, ['-S', '-W', dest], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout ?? ''
  if (!/\.debug_info|\.symtab/.test(sections)) return null
  const keep = spawnSync(`${prefix}objcopy`, ['--only-keep-debug', dest, debug], { stdio: 'inherit' })
  const s = spawnSync(`${prefix}strip`, ['--strip-unneeded', dest], { stdio: 'inherit' })
  if (keep.status !== 0 || s.status !== 0) throw new Error(`${prefix}strip/objcopy failed on ${dest} (install binutils${prefix ? '-aarch64-linux-gnu' : ''})`)
  spawnSync(`${prefix}objcopy`, [`--add-gnu-debuglink=${debug}`, dest], { stdio: 'inherit' })
  return debug
}

function packPlatform(suffix = hostPlatformSuffix(), from) {
  if (!platforms.includes(suffix)) throw new Error(`unknown platform ${suffix}; known: ${platforms.join(', ')}`)
  const file = `aico-data.${suffix}.node`
  const src = from ?? join(ROOT, file)
  if (!existsSync(src)) throw new Error(`${src} is missing: build it first (npm run build:native${suffix === hostPlatformSuffix() ? '' : ` -- --target <triple>`})`)
  const dir = join(ROOT, 'npm', suffix)
  const dest = join(dir, file)
  const debug = strip(src, dest, suffix)
  const out = npmPack(dir)
  if (out.files.filter((f) => f.endsWith('.node')).join() !== file) throw new Error(`${out.file} must hold exactly ${file}, holds: ${out.files.join(', ')}`)
  rmSync(dest)
  return { ...out, binaryBytes: statSync(src).size, strippedFrom: src, debug }
}

const [what, ...rest] = process.argv.slice(2)
mkdirSync(ARTIFACTS, { recursive: true })
try {
  if (what === 'root') {
    const r = packRoot()
    console.log(`[pack] ${r.file} (${(r.size / 1e3).toFixed(0)} kB packed, ${r.files.length} files, no .node)`)
  } else if (what === 'platform') {
    const fi = rest.indexOf('--from')
    const from = fi >= 0 ? rest.splice(fi, 2)[1] : undefined
    const r = packPlatform(rest[0], from)
    console.log(`[pack] ${r.file} (${(r.size / 1e6).toFixed(1)} MB packed; binary stripped from ${(r.binaryBytes / 1e6).toFixed(1)} MB)${r.debug ? `; debug info: ${r.debug}` : ''}`)
  } else {
    console.error('usage: node scripts/pack.mjs root | platform [suffix] [--from FILE]')
    process.exit(2)
  }
} catch (e) {
  console.error(`[pack] ${e.message}`)
  process.exit(1)
}
