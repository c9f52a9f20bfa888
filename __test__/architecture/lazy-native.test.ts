/**
 * `import 'aico-data'` loads no native library that only an optional part needs: zeromq's
 * addon is loaded by the first ZeroMQ use (bus, broker, sync transport, a generated CURVE key),
 * not at import. Checked in a fresh process through the shared objects it has mapped.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PROBE = `
import { readFileSync } from 'node:fs';
const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').some((l) => /zeromq[^ ]*\\.node$/.test(l));
const api = await import('./src/index.ts');
const atImport = mapped();
api.generateBusKeyPair();
console.log(JSON.stringify({ atImport, afterUse: mapped() }));
`;

describe.runIf(process.platform === 'linux')('native libraries load on first use', () => {
  it("importing the package does not load zeromq's addon; generating a CURVE key does", () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ atImport: false, afterUse: true });
  });
});
