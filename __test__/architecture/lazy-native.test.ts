/**
 * `import 'aico-data'` loads no native library that only an optional part needs: zeromq's
 * addon is loaded by the first ZeroMQ use (bus, broker, sync transport, a generated CURVE key),
 * not at import. Checked in a fresh process through the shared objects it has mapped. The NATS
 * client (plain JavaScript, but only the NATS bus needs it) is likewise loaded by the first
 * `connectNatsBus`, checked through the CommonJS module cache.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PROBE = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').some((l) => /zeromq[^ ]*\\.node$/.test(l));
const nats = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@nats-io'));
const api = await import('./src/index.ts');
const atImport = mapped();
const natsAtImport = nats();
api.generateBusKeyPair();
// Port 1 on loopback: nobody listens, so this fails fast, after loading the client.
const code = await api.connectNatsBus({ servers: 'nats://127.0.0.1:1', insecureNoAuth: true, connectTimeoutMs: 2000 }).then(() => 'connected', (e) => e.code);
console.log(JSON.stringify({ atImport, afterUse: mapped(), natsAtImport, natsAfterUse: nats(), code }));
`;

describe.runIf(process.platform === 'linux')('native libraries load on first use', () => {
  it("importing the package loads neither zeromq's addon nor the NATS client; their first use does", () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ atImport: false, afterUse: true, natsAtImport: false, natsAfterUse: true, code: 'UNAVAILABLE' });
  });
});
