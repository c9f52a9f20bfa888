/**
 * Sync robustness against hostile peers (issue 15, items 5-7). Each test performs the attack as
 * a trusted-but-hostile device would: editing its own folder with raw SQL (`data.sql`) and then
 * `exportChanges`, hand-crafting a changeset signed and sealed with its own keys, or planting
 * FIFOs and device symlinks in a shared file-transport folder. Each asserts a typed error and
 * that no honest change is lost.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataLayer } from '../../src/data-layer.js';
import { isAicoError } from '../../src/errors.js';
import { decrypt, encrypt, privateFromDer, signBytes } from '../../src/sync/crypto.js';
import { collectChanges } from '../../src/sync/collect.js';
import { bodyAad, encodeChangeset, MAX_BODY_BYTES, MAX_CHANGESET_BYTES, parseChangeset } from '../../src/sync/envelope.js';
import { formatHlc, isHlc, MAX_ADOPTED_COUNTER, MAX_CLOCK_DRIFT_MS } from '../../src/sync/hlc.js';
import { signOp, storeOp } from '../../src/sync/registry.js';
import { FileTransport } from '../../src/sync/transports/files.js';
import { tempDir } from '../helpers/folders.js';
import { expectCode } from '../helpers/errors.js';
import { cleanupDevices, openDevice, pairDevices } from './helpers.js';

afterEach(cleanupDevices);

const CHILD = fileURLToPath(new URL('./fixtures/inbox-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Body = { v: 1; vv: Record<string, string>; ranges: Record<string, [string, string]>; changes: unknown[] };

const idOf = (d: DataLayer) => d.sync.deviceId();

/** `to` applies what `from` exports for it. */
async function send(from: DataLayer, to: DataLayer) {
  return to.sync.importChanges(await from.sync.exportChanges(await idOf(to)));
}

/** Three paired devices that all know each other (b and c learn of each other through a). */
async function group(names = ['a', 'b', 'c'], extra: Parameters<typeof openDevice>[2] = {}): Promise<DataLayer[]> {
  const ds: DataLayer[] = [];
  for (const [i, n] of names.entries()) ds.push(await openDevice(n, undefined, i === 0 ? extra : {}));
  for (const [i, d] of ds.entries()) await d.sync.enable({ name: names[i]! });
  for (const d of ds.slice(1)) await pairDevices(ds[0]!, d);
  for (const d of ds.slice(1)) await send(ds[0]!, d);
  for (const d of ds.slice(1)) await send(d, ds[0]!);
  return ds;
}

/**
 * A changeset `from` really signs and seals for `to`, with its body replaced by `edit` (a new
 * body object, or raw bytes to deflate as they are): the hostile device uses its own keys.
 */
async function forge(from: DataLayer, to: DataLayer, edit: (body: Body) => Body | Buffer): Promise<Buffer> {
  const fromId = await idOf(from);
  const cs = parseChangeset(await from.sync.exportChanges(await idOf(to)));
  const k = await from.sql.queryOne<{ created_hlc: string; sealed: Uint8Array }>(`SELECT created_hlc, sealed FROM sync_keys WHERE key_id = ?`, [cs.header.keyId]);
  const key = from.crypto.open('sync/group', k!.sealed, Buffer.from(`${cs.header.keyId}|${k!.created_hlc}`));
  const body = JSON.parse(inflateRawSync(decrypt(key, cs.body, bodyAad(cs.headerBytes))).toString('utf8')) as Body;
  const out = edit(body);
  const plain = Buffer.isBuffer(out) ? out : deflateRawSync(Buffer.from(JSON.stringify(out)));
  const id = await from.sql.queryOne<{ sign_private: Uint8Array }>(`SELECT sign_private FROM sync_identity`);
  const signKey = privateFromDer(from.crypto.open('sync/identity/sign', id!.sign_private, Buffer.from(fromId)));
  return encodeChangeset(cs.headerBytes, encrypt(key, plain, bodyAad(cs.headerBytes)), (s) => signBytes(signKey, s));
}

const userIds = async (d: DataLayer) => (await d.sql.query<{ id: string }>(`SELECT id FROM users ORDER BY id`)).map((r) => r.id);
const stampOf = async (d: DataLayer, pk: string) => (await d.sql.queryOne<{ hlc: string }>(`SELECT max(hlc) AS hlc FROM sync_changes WHERE pk = ?`, [pk]))!.hlc;

describe('item 5: clock poisoning', () => {
  it('a peer at wall 999999999999999, counter 99998 is refused alone (SYNC_CLOCK_SKEW): the victim never adopts its clock and its later writes still reach every peer', async () => {
    const [a, b, c] = (await group()) as [DataLayer, DataLayer, DataLayer];
    const [aId, bId] = [await idOf(a), await idOf(b)];
    // The hostile device writes honestly once, then poisons its own clock row and writes again.
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('u-honest', 'honest')`);
    await b.sql.execute(`UPDATE sync_clock SET wall = 999999999999999, counter = 99998 WHERE id = 1`);
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('u-poison', 'poison')`);
    const poison = await stampOf(b, 'u-poison');
    expect(poison).toBe(`999999999999999.99999.${bId}`);

    const r = await send(b, a);
    expect(r.status).toBe('applied');
    expect(r.rejected.map((e) => e.code)).toEqual(['SYNC_CLOCK_SKEW']);
    expect(r.rejected[0]!.details).toMatchObject({ hlc: poison, origin: bId, table: 'users' });
    expect(await userIds(a)).toContain('u-honest');
    expect(await userIds(a)).not.toContain('u-poison');
    // The clock was not dragged along, and the vector stops before the refused change.
    const clock = await a.sql.queryOne<{ wall: number }>(`SELECT wall FROM sync_clock`);
    expect(Number(clock!.wall)).toBeLessThanOrEqual(Date.now() + MAX_CLOCK_DRIFT_MS);
    expect(Number(clock!.wall)).toBeLessThan(999999999999999);
    const vv = await a.sync.versionVector();
    expect(vv[bId]! >= (await stampOf(a, 'u-honest'))).toBe(true);
    expect(vv[bId]! < poison).toBe(true);
    expect(await a.sql.query(`SELECT hlc, code, sender FROM sync_rejected_changes`)).toEqual([{ hlc: poison, code: 'SYNC_CLOCK_SKEW', sender: bId }]);

    // The victim keeps writing: valid stamps, and every write reaches the third device.
    for (let i = 0; i < 5; i++) await a.sql.execute(`INSERT INTO users (id, name) VALUES (?, 'after')`, [`u-a-${i}`]);
    const mine = await a.sql.query<{ hlc: string }>(`SELECT hlc FROM sync_changes WHERE origin = ? ORDER BY seq DESC LIMIT 5`, [aId]);
    expect(mine.every((m) => isHlc(m.hlc) && !m.hlc.startsWith('9999'))).toBe(true);
    const toC = await send(a, c);
    expect(toC.rejected).toEqual([]);
    expect(await userIds(c)).toEqual(expect.arrayContaining(['u-a-0', 'u-a-1', 'u-a-2', 'u-a-3', 'u-a-4', 'u-honest']));
    expect(await userIds(c)).not.toContain('u-poison');
    // The hostile device resends it (the vector holds it back): refused again, recorded once.
    expect((await send(b, a)).rejected.map((e) => e.code)).toEqual(['SYNC_CLOCK_SKEW']);
    expect((await a.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM sync_rejected_changes`))!.n).toBe(1);
  });

  it('no attacker: more than 99,999 writes in one wall millisecond while a peer runs ahead still sync, in clock order', async () => {
    const [a, b] = (await group(['a', 'b'])) as [DataLayer, DataLayer];
    // A peer's clock ran an hour ahead and a adopted it; 99,995 writes happened since (driven directly).
    const ahead = Date.now() + 60 * 60 * 1000;
    await a.sql.execute(`UPDATE sync_clock SET wall = ?, counter = 99995 WHERE id = 1`, [ahead]);
    for (let i = 0; i < 10; i++) await a.sql.execute(`INSERT INTO users (id, name) VALUES (?, ?)`, [`u${i}`, `n${i}`]);
    const hlcs = (await a.sql.query<{ hlc: string }>(`SELECT hlc FROM sync_changes WHERE tbl = 'users' ORDER BY seq`)).map((r) => r.hlc);
    expect(hlcs.map((h) => h.split('.')[1])).toEqual(['99996', '99997', '99998', '99999', 'xf100000', 'xf100001', 'xf100002', 'xf100003', 'xf100004', 'xf100005']);
    expect(hlcs.every(isHlc)).toBe(true);
    expect([...hlcs].sort()).toEqual(hlcs); // text order is clock order across the old and new spelling

    const r = await send(a, b);
    expect(r.rejected).toEqual([]);
    expect(await userIds(b)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9']);
    // b adopted the clock (within the bound) and keeps counting past 100,000.
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('from-b', 'b')`);
    expect((await stampOf(b, 'from-b')).split('.')[1]).toBe('xf100006');
    expect((await send(b, a)).rejected).toEqual([]);
    expect(await userIds(a)).toContain('from-b');
  });

  it('a counter at the int64 edge is accepted, but adopted only up to 2^62: later local stamps stay valid', async () => {
    const [a, b, c] = (await group()) as [DataLayer, DataLayer, DataLayer];
    const ahead = Date.now() + 60 * 60 * 1000;
    await b.sql.execute(`UPDATE sync_clock SET wall = ${ahead}, counter = 9223372036854775800 WHERE id = 1`);
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('edge', 'edge')`);
    expect(await stampOf(b, 'edge')).toBe(formatHlc(ahead, '9223372036854775801', await idOf(b)));
    expect((await send(b, a)).rejected).toEqual([]);
    expect((await a.sql.queryOne<{ c: string }>(`SELECT CAST(counter AS TEXT) AS c FROM sync_clock`))!.c).toBe(MAX_ADOPTED_COUNTER);
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('after-edge', 'a')`);
    const s = await stampOf(a, 'after-edge');
    expect(s).toBe(formatHlc(ahead, (BigInt(MAX_ADOPTED_COUNTER) + 1n).toString(), await idOf(a)));
    expect((await send(a, c)).rejected).toEqual([]);
    expect(await userIds(c)).toEqual(expect.arrayContaining(['edge', 'after-edge']));
  });
});

describe('item 6: false version-vector claims', () => {
  it('a peer claiming "I hold origin X up to H" without the changes does not stop X\'s changes from arriving', async () => {
    const [a, b, x] = (await group(['a', 'b', 'x'])) as [DataLayer, DataLayer, DataLayer];
    const xId = await idOf(x);
    await x.sql.execute(`INSERT INTO users (id, name) VALUES ('x1', 'one')`);
    await send(x, b); // b really holds x1...
    await x.sql.execute(`INSERT INTO users (id, name) VALUES ('x2', 'two')`);
    await x.sql.execute(`INSERT INTO users (id, name) VALUES ('x3', 'three')`);
    const x1 = await stampOf(x, 'x1');
    // ...and claims to hold everything x will write in the next minute.
    const claim = formatHlc(Date.now() + 60_000, 0, xId);
    const forged = await forge(b, a, (body) => ({ ...body, vv: { ...body.vv, [xId]: claim }, ranges: { ...body.ranges, [xId]: ['', claim] } }));
    const r = await a.sync.importChanges(forged);
    expect(r.status).toBe('applied');
    expect(await userIds(a)).toContain('x1');
    // Only what arrived counts: a holds x up to x1, not up to the claim.
    expect((await a.sync.versionVector())[xId]).toBe(x1);
    // A claim with no change at all moves nothing either.
    const empty = await forge(b, a, (body) => ({ ...body, changes: [], ranges: { [xId]: [x1, claim] } }));
    await a.sync.importChanges(empty);
    expect((await a.sync.versionVector())[xId]).toBe(x1);
    // The usual rounds: a tells x what it holds, x sends the rest.
    await send(a, x);
    const got = await send(x, a);
    expect(got.applied).toBeGreaterThanOrEqual(2);
    expect(await userIds(a)).toEqual(expect.arrayContaining(['x1', 'x2', 'x3']));
    expect((await a.sync.versionVector())[xId]! >= (await stampOf(x, 'x3'))).toBe(true);
  });
});

describe('item 7: denial of sync', () => {
  it('a zero-byte or low-order X25519 key in the registry skips that device alone (typed, logged); export to every other peer works', async () => {
    const warnings: Record<string, unknown>[] = [];
    const [a, c] = (await group(['a', 'c'], { sync: { logger: { warn: (_m, d) => void warnings.push({ ...d }) } } })) as [DataLayer, DataLayer];
    // The hostile device replaces its own X25519 public key (raw SQL on its folder), reopens and
    // tries to pair: a typed refusal at pairing or at export, never a raw OpenSSL error.
    const hostile: DataLayer[] = [];
    for (const [name, sql] of [
      ['low', `UPDATE sync_identity SET kex_public = zeroblob(32)`],
      ['zero', `UPDATE sync_identity SET kex_public = x''`],
    ] as const) {
      const d0 = await openDevice(name);
      await d0.sync.enable({ name });
      await d0.sql.execute(sql);
      const dir = d0.dir;
      await d0.close();
      const d = await openDevice(name, dir);
      hostile.push(d);
      const paired = await pairDevices(a, d).then(
        () => undefined,
        (x: unknown) => x,
      );
      if (paired !== undefined) expect(isAicoError(paired), String(paired)).toBe(true);
      else await expectCode(a.sync.exportChanges(await idOf(d)), 'SYNC_UNTRUSTED');
    }
    // However such a key got into the registry (e.g. vouched for before pairing checked keys):
    // plant one with a's own signed operation over a card the hostile device signed itself.
    const b = hostile[0]!;
    const bId = await idOf(b);
    const bRow = await b.sql.queryOne<{ sign_public: Uint8Array; sign_private: Uint8Array }>(`SELECT sign_public, sign_private FROM sync_identity`);
    const bSign = privateFromDer(b.crypto.open('sync/identity/sign', bRow!.sign_private, Buffer.from(bId)));
    const aRow = await a.sql.queryOne<{ sign_private: Uint8Array }>(`SELECT sign_private FROM sync_identity`);
    const aSign = privateFromDer(a.crypto.open('sync/identity/sign', aRow!.sign_private, Buffer.from(await idOf(a))));
    const sign = Buffer.from(bRow!.sign_public).toString('base64url');
    const kex = Buffer.alloc(32).toString('base64url');
    const card = { id: bId, name: 'low', type: 'other', platform: 'linux', sign, kex, sig: signBytes(bSign, Buffer.from(`aico-sync/card/v2|${bId}|${sign}|${kex}`)).toString('base64url') };
    const aId = await idOf(a);
    await a.sql.transaction((tx) => storeOp(tx, signOp(aSign, { v: 1, kind: 'add', subject: bId, signer: aId, card, at: new Date().toISOString() })));
    await send(a, c); // c learns of b (and its broken key) through a
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u-after', 'after')`);
    warnings.length = 0;
    const r = await send(a, c);
    expect(r.rejected).toEqual([]);
    expect(await userIds(c)).toContain('u-after');
    expect(warnings).toEqual([expect.objectContaining({ deviceId: bId, code: 'SYNC_UNTRUSTED', reason: 'invalid_kex_key' })]);
    const e = await a.sync.exportChanges(bId).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isAicoError(e, 'SYNC_UNTRUSTED'), String(e)).toBe(true);
    expect((e as Error).message).not.toMatch(/error:|OSSL|Provider routines/);
    // The third device holds the broken key too: its exports still work.
    await c.sql.execute(`INSERT INTO users (id, name) VALUES ('from-c', 'c')`);
    expect((await send(c, a)).rejected).toEqual([]);
    expect(await userIds(a)).toContain('from-c');
  });

  it('one malformed change is refused alone as CORRUPT (the rest applies) and never blocks its sender', async () => {
    const [a, b] = (await group(['a', 'b'])) as [DataLayer, DataLayer];
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'one')`);
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('u2', 'two')`);
    const isU2 = (c: unknown) => Array.isArray(c) && c[2] === 'users' && c[3] === 'u2';
    const variants: [string, (c: unknown[]) => unknown][] = [
      ['truncated JSON', (c) => [...c.slice(0, 7), '{', c[8]]],
      ['image is an array', (c) => [...c.slice(0, 7), '[1]', c[8]]],
      ['image names another row', (c) => [...c.slice(0, 7), JSON.stringify({ id: 'u-other', name: 'hijack' }), c[8]]],
      ['value no trigger writes', (c) => [...c.slice(0, 7), JSON.stringify({ id: 'u2', name: { x: 1 } }), c[8]]],
      ['unknown table', (c) => [c[0], c[1], 'sync_keys', ...c.slice(3)]],
      ['malformed stamp', (c) => ['1.2.3', ...c.slice(1)]],
      ['not a change', () => 42],
    ];
    for (const [label, mutate] of variants) {
      const bytes = await forge(b, a, (body) => ({ ...body, changes: body.changes.map((c) => (isU2(c) ? mutate(c as unknown[]) : c)) }));
      const r = await a.sync.importChanges(bytes);
      expect(r.status, label).toBe('applied');
      expect(r.rejected.map((e) => e.code), label).toEqual(['CORRUPT']);
      expect(await userIds(a), label).toEqual(['u1']);
    }
    expect((await a.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM sync_rejected_changes WHERE code = 'CORRUPT'`))!.n).toBe(variants.length);
    expect((await a.sync.status()).rejectedChanges).toBe(variants.length);
    // The sender's next honest changeset still carries u2 (the vector stopped before it).
    const r = await send(b, a);
    expect(r.rejected).toEqual([]);
    expect(await userIds(a)).toEqual(['u1', 'u2']);
    expect(await a.sql.queryOne(`SELECT name FROM users WHERE id = 'u2'`)).toEqual({ name: 'two' });
  });

  it('a deflate bomb (valid JSON padded to more than the bound) is refused as CORRUPT, without inflating past it', async () => {
    const [a, b] = (await group(['a', 'b'])) as [DataLayer, DataLayer];
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'one')`);
    let packed = 0;
    const bomb = await forge(b, a, (body) => {
      // JSON allows trailing white space: without a bound this body inflates and applies.
      const d = deflateRawSync(Buffer.concat([Buffer.from(JSON.stringify(body)), Buffer.alloc(MAX_BODY_BYTES, 0x20)]), { level: 9 });
      packed = d.length;
      return d;
    });
    expect(packed).toBeLessThan(256 * 1024);
    const e = await a.sync.importChanges(bomb).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isAicoError(e, 'CORRUPT'), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/inflates beyond/);
    expect(await userIds(a)).toEqual([]);
    // Oversized input is refused before any parsing.
    await expectCode(a.sync.importChanges(Buffer.alloc(MAX_CHANGESET_BYTES + 1)), 'CORRUPT');
    // The sender is not blocked: its next honest changeset applies.
    expect((await send(b, a)).rejected).toEqual([]);
    expect(await userIds(a)).toEqual(['u1']);
  });

  it('the exporter bounds a changeset: a large backlog goes in several bounded rounds, none skipped', async () => {
    const [a, b] = (await group(['a', 'b'])) as [DataLayer, DataLayer];
    const [aId, bId] = [await idOf(a), await idOf(b)];
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 30; i++) await a.sql.execute(`INSERT INTO users (id, name) VALUES (?, ?)`, [`big-${String(i).padStart(2, '0')}`, big]);
    // Drive the body builder with a small budget; the receiver's vector rule does the rest.
    let since = await b.sync.versionVector();
    let rounds = 0;
    while (rounds < 40) {
      const body = await collectChanges(a.sql, aId, bId, since, () => true, 10_000);
      const mineSent = body.changes.filter((c) => c[1] === aId);
      if (mineSent.length === 0) break;
      rounds++;
      expect(Buffer.byteLength(JSON.stringify(body.changes))).toBeLessThan(10_000 + 3_000);
      // The range ends at the last change sent, never beyond.
      expect(body.ranges[aId]![1]).toBe(mineSent.at(-1)![0]);
      since = { ...since, [aId]: body.ranges[aId]![1] };
    }
    expect(rounds).toBeGreaterThanOrEqual(5);
    // The real exchange (default budget) delivers everything.
    await send(a, b);
    expect((await userIds(b)).filter((u) => u.startsWith('big-'))).toHaveLength(30);
  });

  it('the file transport never opens FIFOs, device files or symlinks, nor files over its bound; the valid changeset beside them is delivered', { timeout: 120_000 }, async () => {
    const [a, b] = (await group(['a', 'b'])) as [DataLayer, DataLayer];
    const [aId] = [await idOf(a)];
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('via-files', 'sneakernet')`);
    const shared = tempDir('aico-sync-files-');
    try {
      const inbox = join(shared.dir, aId);
      mkdirSync(inbox, { recursive: true });
      // Planted by whoever can write the shared folder, sorted before the real changeset.
      execFileSync('mkfifo', [join(inbox, '000-fifo.aicosync')]);
      symlinkSync('/dev/zero', join(inbox, '001-zero.aicosync'));
      const elsewhere = join(shared.dir, 'elsewhere.bin');
      writeFileSync(elsewhere, await b.sync.exportChanges(aId));
      symlinkSync(elsewhere, join(inbox, '002-link.aicosync'));
      mkdirSync(join(inbox, '003-dir.aicosync'));
      writeFileSync(join(inbox, '004-huge.aicosync'), '');
      truncateSync(join(inbox, '004-huge.aicosync'), MAX_CHANGESET_BYTES + 1); // sparse: no disk used
      const real = await b.sync.exportChanges(aId);
      await new FileTransport(shared.dir, await idOf(b)).send(aId, real);

      // A separate process drains the inbox: a reader blocked on the FIFO is killed, not waited for.
      const child = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', CHILD, shared.dir, aId], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('error', reject);
        p.on('close', (code) => resolve({ code, out, err }));
      });
      expect(child.code, child.err).toBe(0);
      const res = JSON.parse(child.out.trim().split('\n').at(-1)!) as {
        delivered: { sha256: string; base64: string }[];
        rejected: { name: string; code: string; message: string }[];
      };
      expect(res.delivered.map((d) => d.sha256)).toEqual([createHash('sha256').update(real).digest('hex')]);
      expect(res.rejected.map((r) => [r.name, r.code])).toEqual([
        ['000-fifo.aicosync', 'CORRUPT'],
        ['001-zero.aicosync', 'CORRUPT'],
        ['002-link.aicosync', 'CORRUPT'],
        ['003-dir.aicosync', 'CORRUPT'],
        ['004-huge.aicosync', 'CORRUPT'],
      ]);
      expect(res.rejected[0]!.message).toMatch(/FIFO/);
      expect(res.rejected[1]!.message).toMatch(/symbolic link/);
      // Refused entries were set aside (the links themselves, not their targets); the inbox is empty.
      expect(readdirSync(inbox).sort()).toEqual(['rejected']);
      expect(readdirSync(join(inbox, 'rejected'))).toHaveLength(5);
      // No data loss: the real changeset applies.
      const r = await a.sync.importChanges(Buffer.from(res.delivered[0]!.base64, 'base64'));
      expect(r.status).toBe('applied');
      expect(await userIds(a)).toContain('via-files');
    } finally {
      shared.cleanup();
    }
  });
});
