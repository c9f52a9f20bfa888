#!/usr/bin/env node
// Install the benchmark peers that compile at install time, on demand, outside the clone:
//  - better-sqlite3@12 (13 crashes on Node 20): prebuild-install downloads from GitHub, which is
//    unreachable here, so it builds with node-gyp against the local Node headers
//    (npm_config_nodedir) instead of downloading them;
//  - classic-level@3 (bench/kv's LevelDB peer): prebuilt, node-gyp as fallback.
// They are not devDependencies so that `npm ci` never runs node-gyp. They go to
// $AICO_BENCH_PEERS_DIR (default ~/.cache/aico-data/bench-peers), where bench/peers.ts finds them.
// libsql (libsql-js) stays a devDependency: prebuilt per-platform packages, no install script.
// Usable as `node scripts/ensure-bench-peers.mjs` or `await ensureBenchPeers()`.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from './lib.mjs'

export const PEERS_DIR = process.env.AICO_BENCH_PEERS_DIR ?? join(homedir(), '.cache', 'aico-data', 'bench-peers')
const PEERS = { 'better-sqlite3': '12.11.1', 'classic-level': '3.0.0' }

const PROBES = {
  'better-sqlite3': "const D=require('better-sqlite3');const d=new D(':memory:');d.prepare('select 1').get();d.close()",
  libsql: "const D=require('libsql');const d=new D(':memory:');d.prepare('select 1').get();d.close()",
  'classic-level': "require('classic-level')",
}

/** Load the package in a child process (a failed native load can't be retried in-process). */
function probe(name, cwd) {
  const r = spawnSync(process.execPath, ['-e', PROBES[name]], { cwd, encoding: 'utf8' })
  return r.status === 0 ? null : (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(0, 6).join('\n')
}

function localNodeDir() {
  const prefix = dirname(dirname(process.execPath))
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : null
}

function install(names) {
  mkdirSync(PEERS_DIR, { recursive: true })
  const pkg = join(PEERS_DIR, 'package.json')
  if (!existsSync(pkg)) writeFileSync(pkg, JSON.stringify({ name: 'aico-data-bench-peers', private: true }, null, 2))
  const env = { ...process.env }
  const nodedir = localNodeDir()
  if (!env.npm_config_nodedir && nodedir) env.npm_config_nodedir = nodedir
  const specs = names.map((n) => `${n}@${PEERS[n]}`)
  console.log(`[ensure-bench-peers] npm install ${specs.join(' ')} into ${PEERS_DIR} (nodedir=${env.npm_config_nodedir ?? 'download'})`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--no-save', ...specs], {
    cwd: PEERS_DIR,
    env,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  return r.status === 0
}

export function ensureBenchPeers() {
  const missing = Object.keys(PEERS).filter((n) => probe(n, ROOT) && probe(n, PEERS_DIR))
  if (missing.length && !install(missing)) {
    throw new Error(`could not install ${missing.join(', ')} into ${PEERS_DIR} (better-sqlite3 builds with node-gyp: needs make, g++, python3)`)
  }
  const bad = Object.keys(PEERS)
    .map((n) => [n, probe(n, ROOT) && probe(n, PEERS_DIR)])
    .filter(([, e]) => e)
  for (const [n, e] of bad) console.log(`[ensure-bench-peers] ${n} does not load:\n${e}`)
  if (bad.some(([n]) => n === 'better-sqlite3')) throw new Error('better-sqlite3 does not load: the SQL, KV and backup benchmarks need it')
  const err = probe('libsql', ROOT)
  if (err) {
    throw new Error(`libsql does not load; its prebuilt @libsql/${process.platform}-${process.arch}-* package is missing (re-run npm ci):\n${err}`)
  }
  console.log(`[ensure-bench-peers] peers load (${Object.keys(PEERS).filter((n) => !bad.some(([b]) => b === n)).join(', ')}, libsql)`)
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  try {
    ensureBenchPeers()
  } catch (e) {
    console.error(`[ensure-bench-peers] ${e.message}`)
    process.exit(1)
  }
}
