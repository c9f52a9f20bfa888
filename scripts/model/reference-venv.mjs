// The reference implementation of all-MiniLM-L6-v2 in a virtualenv under
// ~/.cache/aico-data/tools/minilm-ref (never in the clone), from pinned PyPI packages:
// transformers' Flax BERT on CPU-only jax (torch's PyPI wheels bring gigabytes of CUDA).
// Used by reference-vectors.mjs (the faithful-output fixture) and bench/embeddings (the peer).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { TOOLS_DIR } from '../prereqs.mjs'

export const PINS = ['transformers==4.49.0', 'tokenizers==0.21.4', 'flax==0.12.8', 'jax[cpu]==0.10.2', 'numpy==2.4.6', 'safetensors==0.8.0']
export const VENV = join(TOOLS_DIR, 'minilm-ref')
export const PY = join(VENV, 'bin', 'python')

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`[reference-venv] ${cmd} ${args.join(' ')} failed`)
}

/** Makes the virtualenv (once) and installs the pins into it; returns its python. */
export function ensureReferenceVenv() {
  if (!existsSync(PY)) run('python3', ['-m', 'venv', VENV])
  // A marker of the installed pins: pip is not run again when they are there.
  const marker = join(VENV, `.pins-${PINS.join(',').replace(/[^A-Za-z0-9.=,-]/g, '_')}`)
  if (!existsSync(marker)) {
    run(join(VENV, 'bin', 'pip'), ['install', '-q', ...PINS])
    run('touch', [marker])
  }
  return PY
}
