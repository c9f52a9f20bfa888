/**
 * Where the bus tests find their external programs (installed by `node scripts/ensure-bus-tools.mjs`
 * into ~/.cache/aico-data/tools), and why a test skips when one is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const TOOLS = join(homedir(), '.cache', 'aico-data', 'tools');

/** `.ci/run` sets it after installing the tools: a missing tool then fails the tests instead of skipping them. */
function required(what: string, found: string | undefined): string | undefined {
  if (!found && process.env.AICO_DATA_REQUIRE_BUS_TOOLS === '1') {
    throw new Error(`${what} is missing but AICO_DATA_REQUIRE_BUS_TOOLS=1: run \`node scripts/ensure-bus-tools.mjs\``);
  }
  return found;
}

/** nats-server (built with `go install`), or undefined. `AICO_NATS_SERVER` overrides the path. */
export const NATS_SERVER: string | undefined = (() => {
  const p = process.env.AICO_NATS_SERVER ?? join(TOOLS, 'bin', 'nats-server');
  return required('nats-server', existsSync(p) ? p : undefined);
})();

/** Why the NATS tests skip (empty when nats-server is there). */
export const NATS_SKIP = NATS_SERVER
  ? ''
  : ' (SKIPPED: nats-server is missing; install it with `GOBIN=$HOME/.cache/aico-data/tools/bin go install github.com/nats-io/nats-server/v2@v2.15.2` or `node scripts/ensure-bus-tools.mjs`)';

/** Python of the virtualenv with `protobuf` and `grpcio-tools`, or undefined when it cannot import them. */
export const PROTO_REF_PYTHON: string | undefined = (() => {
  const p = join(TOOLS, 'proto-ref', 'bin', 'python');
  const ok = existsSync(p) && spawnSync(p, ['-c', 'import google.protobuf, grpc_tools'], { stdio: 'ignore' }).status === 0;
  return required('the Python protobuf reference', ok ? p : undefined);
})();

/** Why the protobuf reference tests skip (empty when the virtualenv is there). */
export const PROTO_REF_SKIP = PROTO_REF_PYTHON
  ? ''
  : ' (SKIPPED: the Python protobuf reference is missing; run `node scripts/ensure-bus-tools.mjs`, which needs python3 with venv)';
