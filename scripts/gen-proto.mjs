#!/usr/bin/env node
// Regenerates src/bus/gen from proto/ with buf and protoc-gen-es (both from npm, no network):
// `npm run gen:proto`. The generated code is checked in; run this after editing a .proto file.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const r = spawnSync('npx', ['--no-install', 'buf', 'generate'], { cwd: root, stdio: 'inherit' })
process.exit(r.status ?? 1)
