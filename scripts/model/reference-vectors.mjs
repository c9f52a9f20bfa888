#!/usr/bin/env node
// Regenerates __test__/fixtures/minilm-reference.json (reference token ids and embeddings of
// all-MiniLM-L6-v2): fetches the model (fetch-minilm.mjs), makes a virtualenv with the pinned
// reference packages from PyPI under ~/.cache/aico-data/tools/minilm-ref (never in the clone),
// and runs reference-vectors.py in it. A developer's tool: CI only reads the committed file.
//
//   node scripts/model/reference-vectors.mjs
//   node scripts/model/reference-vectors.mjs --unicode   also regenerates the tokenizer's tables
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../lib.mjs'
import { fetchModel, MODEL_DIR } from './fetch-minilm.mjs'
import { ensureReferenceVenv } from './reference-venv.mjs'

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT })
  if (r.status !== 0) {
    console.error(`[reference-vectors] ${cmd} ${args.join(' ')} failed`)
    process.exit(1)
  }
}

await fetchModel()
const PY = ensureReferenceVenv()
if (process.argv.includes('--unicode')) run(PY, [join(ROOT, 'scripts/model/unicode-tables.py')])
run(PY, [join(ROOT, 'scripts/model/reference-vectors.py'), MODEL_DIR, join(ROOT, '__test__/fixtures/minilm-reference.json')])
