#!/usr/bin/env node
// Make sure the comparison engines used by bench/sql load on this machine:
//  - better-sqlite3@12: its install script tries prebuild-install (downloads from
//    GitHub, unreachable here) and falls back to `node-gyp rebuild`. node-gyp
//    needs Node's headers; they are taken from the local Node install
//    (npm_config_nodedir) instead of being downloaded.
//  - libsql (libsql-js): prebuilt per-platform npm packages (@libsql/<platform>).
// Usable as `node scripts/ensure-bench-peers.mjs` or `await ensureBenchPeers()`.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from './lib.mjs'

const PROBES = {
  'better-sqlite3': "const D=require('better-sqlite3');const d=new D(':memory:');d.prepare('select 1').get();d.close()",
  libsql: "const D=require('libsql');const d=new D(':memory:');d.prepare('select 1').get();d.close()",
  'classic-level': "require('classic-level')",
}

/** Load the package in a child process (a failed native load can't be retried in-process). */
function probe(name) {
  const r = spawnSync(process.execPath, ['-e', PROBES[name]], { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? null : (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(0, 6).join('\n')
}

function localNodeDir() {
  const prefix = dirname(dirname(process.execPath))
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : null
}

function rebuildBetterSqlite3() {
  const env = { ...process.env, npm_config_build_from_source: 'true' }
  const nodedir = localNodeDir()
  if (!env.npm_config_nodedir && nodedir) env.npm_config_nodedir = nodedir
  console.log(`[ensure-bench-peers] npm rebuild better-sqlite3 (from source, nodedir=${env.npm_config_nodedir ?? 'download'})`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['rebuild', 'better-sqlite3'], { cwd: ROOT, env, stdio: 'inherit', shell: process.platform === 'win32' })
  return r.status === 0
}

export function ensureBenchPeers() {
  let err = probe('better-sqlite3')
  if (err) {
    console.log(`[ensure-bench-peers] better-sqlite3 does not load:\n${err}`)
    if (!rebuildBetterSqlite3() || (err = probe('better-sqlite3'))) {
      throw new Error(`better-sqlite3 still does not load after a source rebuild (needs make, g++, python3):\n${err ?? ''}`)
    }
  }
  err = probe('libsql')
  if (err) {
    throw new Error(`libsql does not load; its prebuilt @libsql/${process.platform}-${process.arch}-* package is missing (re-run npm install):\n${err}`)
  }
  // classic-level (bench/kv's LevelDB peer) ships prebuilt binaries; bench/kv skips it when missing.
  err = probe('classic-level')
  if (err) console.log(`[ensure-bench-peers] classic-level does not load (bench/kv runs without its LevelDB peer):\n${err}`)
  console.log(`[ensure-bench-peers] better-sqlite3 and libsql load${err ? '' : ', classic-level loads'}`)
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  try {
    ensureBenchPeers()
  } catch (e) {
    console.error(`[ensure-bench-peers] ${e.message}`)
    process.exit(1)
  }
}
