#!/usr/bin/env node
// The programs the bus tests run against, installed once into ~/.cache/aico-data/tools (outside
// the clone, kept between runs; each step is skipped when its result is already there):
//   - nats-server v2.15.2, built with `go install` into tools/bin (NATS bus and relay tests);
//   - a Python virtualenv tools/proto-ref with Google's protobuf runtime and grpcio-tools (the
//     reference encoder of AICO's protobuf envelope).
// Without go or python3 the step is reported and skipped: those tests then skip with a reason.
//
//   node scripts/ensure-bus-tools.mjs        install what is missing
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

const TOOLS = join(homedir(), '.cache', 'aico-data', 'tools')
export const NATS_SERVER = join(TOOLS, 'bin', 'nats-server')
export const NATS_VERSION = 'v2.15.2'
export const PROTO_REF_PYTHON = join(TOOLS, 'proto-ref', 'bin', 'python')
const PY_PINS = ['protobuf==6.33.1', 'grpcio-tools==1.76.0']

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts })
const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0

// Go's official tarball installs to /usr/local/go, often not on a non-login shell's PATH.
const GO = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 ? 'go' : existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined

function natsServer() {
  const v = existsSync(NATS_SERVER) ? spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' }).stdout : ''
  if (v.includes(NATS_VERSION)) return console.log(`[bus-tools] nats-server ${NATS_VERSION}: present`)
  if (!GO) return console.log('[bus-tools] go is missing: nats-server not built, the NATS tests will skip')
  console.log(`[bus-tools] go install github.com/nats-io/nats-server/v2@${NATS_VERSION}`)
  const r = run(GO, ['install', `github.com/nats-io/nats-server/v2@${NATS_VERSION}`], { env: { ...process.env, GOBIN: join(TOOLS, 'bin') } })
  if (r.status !== 0) process.exitCode = 1
}

function protoRef() {
  const ok = existsSync(PROTO_REF_PYTHON) && spawnSync(PROTO_REF_PYTHON, ['-c', 'import google.protobuf, grpc_tools'], { stdio: 'ignore' }).status === 0
  if (ok) return console.log('[bus-tools] protobuf reference venv: present')
  if (!has('python3')) return console.log('[bus-tools] python3 is missing: the protobuf reference tests will skip')
  console.log(`[bus-tools] python3 -m venv ${join(TOOLS, 'proto-ref')} && pip install ${PY_PINS.join(' ')}`)
  if (run('python3', ['-m', 'venv', join(TOOLS, 'proto-ref')]).status !== 0) return void (process.exitCode = 1)
  if (run(PROTO_REF_PYTHON, ['-m', 'pip', 'install', '-q', ...PY_PINS]).status !== 0) process.exitCode = 1
}

natsServer()
protoRef()
