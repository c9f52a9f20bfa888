/** `aico-data sync ...` as a user runs it: two folders pair through the CLI and exchange by files. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, runCli } from '../cli/helpers.js';
import { openDevice, cleanupDevices, PASSWORD } from './helpers.js';

const env = { AICO_DATA_PASSWORD: PASSWORD };
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-sync-');
}, 300_000);
afterAll(async () => {
  await cleanupDevices();
  tmp?.cleanup();
});

const cli = async (dir: string, ...args: string[]) => {
  const r = await runCli(['sync', ...args, '--dir', dir], { env });
  expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
};

describe('aico-data sync', () => {
  it('enable, offer, pair with the code, complete, exchange through a folder, revoke', { timeout: 300_000 }, async () => {
    const [a, b, stick] = ['a', 'b', 'stick'].map((n) => join(tmp.dir, n)) as [string, string, string];
    for (const d of [a, b]) expect((await runCli(['init', '--dir', d], { env })).code).toBe(0);
    const aId = json<{ id: string }>(await cli(a, 'enable', '--name', 'desktop', '--json')).id;
    const bId = json<{ id: string }>(await cli(b, 'enable', '--name', 'phone', '--json')).id;
    type Step = { step: string; payload: string; code: string; device: string };
    // A wrong code ends a session: the first pairing is refused, the second one succeeds.
    const pairing = async (typo: boolean) => {
      const offer = json<{ payload: string }>(await cli(b, 'offer', '--json'));
      const answer = json<Step>(await cli(a, 'pair', offer.payload, '--json'));
      const reveal = json<Step>(await cli(b, 'complete', answer.payload, '--json'));
      expect(reveal.code).toMatch(/^\d{6}$/);
      if (typo) {
        const wrong = await runCli(['sync', 'pair', reveal.payload, '--code', reveal.code === '111111' ? '222222' : '111111', '--dir', a], { env });
        expect(wrong.code).not.toBe(0);
        expect(wrong.stderr).toContain('SYNC_PAIRING_REJECTED');
        return;
      }
      const paired = json<Step>(await cli(a, 'pair', reveal.payload, '--code', reveal.code, '--json'));
      expect(paired.device).toBe(bId);
      expect(json<Step>(await cli(b, 'complete', paired.payload, '--json')).code).toBe(reveal.code);
    };
    await pairing(true);
    await pairing(false);

    // Data written by the app on a travels to b on a stick.
    const data = await openDevice('a', a);
    await data.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    await data.close();
    expect((await cli(a, 'exchange', bId, '--folder', stick)).stdout).toContain('sent');
    const got = json<{ received: number; applied: number }>(await cli(b, 'exchange', aId, '--folder', stick, '--json'));
    expect(got.received).toBe(1);
    expect(got.applied).toBeGreaterThan(0);
    const devices = json<{ id: string; name: string }[]>(await cli(b, 'devices', '--json'));
    expect(devices.map((d) => d.name).sort()).toEqual(['desktop', 'phone']);
    const status = json<{ enabled: boolean; peers: { deviceId: string }[] }>(await cli(a, 'status', '--json'));
    expect(status.enabled).toBe(true);
    expect(status.peers.map((p) => p.deviceId)).toEqual([bId]);

    // export/import by file; importing twice applies nothing new.
    const file = join(tmp.dir, 'cs.aicosync');
    await cli(b, 'export', aId, '--out', file);
    expect(existsSync(file)).toBe(true);
    const first = json<{ status: string }[]>(await cli(a, 'import', file, '--json'));
    expect(first[0]!.status).toBe('applied');
    const twice = json<{ applied: number }[]>(await cli(a, 'import', file, '--json'));
    expect(twice[0]!.applied).toBe(0);

    expect(json<Record<string, string>>(await cli(a, 'policy', 'memories', 'on_demand', '--json')).memories).toBe('on_demand');
    expect((await cli(a, 'device-policy', bId, 'selective')).stdout).toContain('selective');
    const badMode = await runCli(['sync', 'policy', 'memories', 'sometimes', '--dir', a], { env });
    expect(badMode.code).toBe(2);

    const noYes = await runCli(['sync', 'revoke', bId, '--dir', a], { env });
    expect(noYes.code).toBe(2);
    expect((await cli(a, 'revoke', bId, '--yes')).stdout).toContain('rotated');
    const refused = await runCli(['sync', 'export', bId, '--out', file, '--dir', a], { env });
    expect(refused.stderr).toContain('SYNC_UNTRUSTED');
    expect(json<unknown[]>(await cli(a, 'conflicts', '--json'))).toEqual([]);
  });
});
