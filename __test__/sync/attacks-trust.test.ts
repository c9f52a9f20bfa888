/**
 * Attacks on the sync trust boundary (issue 15, items 1-4), each performed as the attacker would:
 * a man in the middle of the pairing payloads, a device of the group editing its own folder with
 * raw SQL and then exporting, a captured changeset on the wire. Every one ends in a typed error
 * and no data loss.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataLayer } from '../../src/data-layer.js';
import { parseChangeset } from '../../src/sync/envelope.js';
import { encodeReveal, sasCode, type Transcript } from '../../src/sync/pairing.js';
import type { SignedCard } from '../../src/sync/registry.js';
import { expectCode } from '../helpers/errors.js';
import { cleanupDevices, openDevice, pairDevices } from './helpers.js';

afterEach(cleanupDevices);

/** The JSON inside a pairing payload (what anyone on the channel can read). */
function peek(payload: string): Record<string, unknown> {
  const raw = payload.slice(payload.indexOf(':') + 1).split('.')[0]!;
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function ids(...ds: DataLayer[]): Promise<string[]> {
  return Promise.all(ds.map((d) => d.sync.deviceId()));
}

/** Every device sends to every other device it still trusts, twice (so introductions settle). */
async function exchange(ds: DataLayer[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const x of ds) {
      for (const y of ds) {
        if (x === y) continue;
        const yId = await y.sync.deviceId();
        const bytes = await x.sync.exportChanges(yId).catch(() => undefined);
        if (bytes) await y.sync.importChanges(bytes).catch(() => undefined);
      }
    }
  }
}

describe('item 1: the pairing code cannot be ground', () => {
  it('a man in the middle who swaps the offer and grinds its nonce after seeing the answer is refused, and trusted nowhere', { timeout: 240_000 }, async () => {
    const a = await openDevice('a');
    const b = await openDevice('b');
    const m = await openDevice('m');
    await a.sync.enable({ name: 'desktop' });
    await b.sync.enable({ name: 'phone' });
    await m.sync.enable({ name: 'phone' });
    const [aId, , mId] = await ids(a, b, m);

    // The offer carries no code at all: there is nothing to precompute against.
    const offerB = await b.sync.createPairingOffer();
    expect(Object.keys(offerB)).not.toContain('code');
    expect(peek(offerB.payload)).not.toHaveProperty('nJ');

    // M swaps b's offer for its own on the way to a, and answers b itself.
    const offerM = await m.sync.createPairingOffer();
    const answerA = await a.sync.pair(offerM.payload);
    const revealB = await b.sync.completePairing((await m.sync.pair(offerB.payload)).payload!);
    const codeOnB = revealB.code!; // what the user reads on the phone and types on the desktop

    // M grinds a nonce so that a's code, over M's card, equals the code b shows.
    const mOffer = peek(offerM.payload) as { s: string; card: SignedCard };
    const ans = peek(answerA.payload!) as { card: SignedCard; nA: string };
    let ground: string | undefined;
    for (let i = 0; i < 20_000_000 && !ground; i++) {
      const nJ = i.toString(16).padStart(64, '0');
      const t: Transcript = { s: mOffer.s, joiner: mOffer.card, approver: ans.card, nA: ans.nA, nJ };
      if (sasCode(t) === codeOnB) ground = nJ;
    }
    expect(ground).toBeDefined();
    // The ground nonce is not the one M committed to in its offer: refused.
    await expectCode(a.sync.pair(encodeReveal(mOffer.s, ground!), codeOnB), 'SYNC_PAIRING_REJECTED');
    // Its honest reveal gives an independent code, and the session is gone anyway (one guess).
    const revealM = await m.sync.completePairing(answerA.payload!);
    await expectCode(a.sync.pair(revealM.payload!, codeOnB), 'SYNC_PAIRING_REJECTED');
    expect((await a.sync.devices()).map((d) => d.id)).toEqual([aId]);
    await expectCode(a.sync.exportChanges(mId), 'SYNC_UNTRUSTED');

    // The user starts again without the attacker: pairing works, data flows.
    await pairDevices(a, b);
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    await b.sync.importChanges(await a.sync.exportChanges(await b.sync.deviceId()));
    expect(await b.sql.query(`SELECT name FROM users`)).toEqual([{ name: 'Ada' }]);
  });
});

describe('item 2: acceptances are bound to the confirmed key; sessions expire and are single-use', () => {
  it('a confirmation signed by anyone but the device bound into the code is refused; old-format acceptances too', async () => {
    const a = await openDevice('a');
    const b = await openDevice('b');
    for (const d of [a, b]) await d.sync.enable();
    const [, bId] = await ids(a, b);
    const offer = await b.sync.createPairingOffer();
    const answer = await a.sync.pair(offer.payload);
    const reveal = await b.sync.completePairing(answer.payload!);
    // The attacker saw every payload and computes the transcript; it signs with its own key.
    const evil = generateKeyPairSync('ed25519');
    const body = Buffer.from(JSON.stringify({ s: (peek(answer.payload!) as { s: string }).s, t: randomBytes(32).toString('hex') }));
    const forged = `AICO-PAIRC2:${body.toString('base64url')}.${sign(null, Buffer.concat([Buffer.from('AICO-PAIRC2:'), body]), evil.privateKey).toString('base64url')}`;
    await expectCode(b.sync.completePairing(forged), 'SYNC_PAIRING_REJECTED');
    await expectCode(b.sync.completePairing('AICO-PAIRED1:e30.AA'), 'SYNC_PAIRING_REJECTED');
    expect((await b.sync.devices()).map((d) => d.id)).toEqual([bId]);
    // The forged attempt burnt b's session: a's genuine confirmation no longer completes it.
    const confirm = await a.sync.pair(reveal.payload!, reveal.code);
    await expectCode(b.sync.completePairing(confirm.payload!), 'SYNC_PAIRING_REJECTED');
    expect((await b.sync.devices()).map((d) => d.id)).toEqual([bId]);
  });

  it('offers, answers and reveals expire (injected clock), and a used offer cannot be replayed', async () => {
    const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
    const opts = { sync: { now: () => clock.t } };
    const a = await openDevice('a', undefined, opts);
    const b = await openDevice('b', undefined, opts);
    for (const d of [a, b]) await d.sync.enable();
    const minutes = (n: number) => (clock.t += n * 60_000);

    // An offer presented after 11 minutes.
    const stale = await b.sync.createPairingOffer();
    minutes(11);
    await expectCode(a.sync.pair(stale.payload), 'SYNC_PAIRING_REJECTED');

    // An answer arriving at the new device after its offer expired.
    const o2 = await b.sync.createPairingOffer();
    const ans2 = await a.sync.pair(o2.payload);
    minutes(11);
    await expectCode(b.sync.completePairing(ans2.payload!), 'SYNC_PAIRING_REJECTED');

    // A reveal arriving at the approver after its session expired.
    const o3 = await b.sync.createPairingOffer();
    const rev3 = await b.sync.completePairing((await a.sync.pair(o3.payload)).payload!);
    minutes(11);
    await expectCode(a.sync.pair(rev3.payload!, rev3.code), 'SYNC_PAIRING_REJECTED');
    expect(await a.sync.devices()).toHaveLength(1);

    // In time it works; afterwards every payload of that session is spent.
    const o4 = await b.sync.createPairingOffer();
    const ans4 = await a.sync.pair(o4.payload);
    minutes(2);
    const rev4 = await b.sync.completePairing(ans4.payload!);
    const conf4 = await a.sync.pair(rev4.payload!, rev4.code);
    expect((await b.sync.completePairing(conf4.payload!)).step).toBe('done');
    await expectCode(a.sync.pair(o4.payload), 'SYNC_PAIRING_REJECTED');
    await expectCode(b.sync.completePairing(ans4.payload!), 'SYNC_PAIRING_REJECTED');
    await expectCode(a.sync.pair(rev4.payload!, rev4.code), 'SYNC_PAIRING_REJECTED');
    await expectCode(b.sync.completePairing(conf4.payload!), 'SYNC_PAIRING_REJECTED');
  });
});

describe('item 3: revocation protects future traffic', () => {
  it('a sync key the revoked device planted with a far-future stamp is never used after the revocation', async () => {
    const a = await openDevice('a');
    const b = await openDevice('b');
    const r = await openDevice('r');
    for (const d of [a, b, r]) await d.sync.enable();
    await pairDevices(a, b);
    await pairDevices(a, r);
    const [aId, bId, rId] = await ids(a, b, r);
    await exchange([a, b, r]);

    // r plants a key in its own folder, stamped far in the future, and spreads it.
    const keyId = randomBytes(16).toString('hex');
    const created = `999999999999999.00000.${rId}`;
    const planted = randomBytes(32);
    await r.sql.execute(`INSERT INTO sync_keys (key_id, created_hlc, origin, sealed) VALUES (?, ?, ?, ?)`, [
      keyId,
      created,
      rId,
      r.crypto.seal('sync/group', planted, Buffer.from(`${keyId}|${created}`)),
    ]);
    await r.sql.execute(`INSERT INTO users (id, name) VALUES ('ur', 'from r')`);
    for (const [x, xi] of [[a, aId], [b, bId]] as const) expect((await x.sync.importChanges(await r.sync.exportChanges(xi))).status).toBe('applied');

    await a.sync.revoke(rId);
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u2', 'after revocation')`);
    const forB = await a.sync.exportChanges(bId);
    expect(parseChangeset(forB).header.keyId).not.toBe(keyId);
    expect(Object.keys(parseChangeset(forB).header.wraps)).not.toContain(rId);
    await expectCode(r.sync.importChanges(forB), 'SYNC_KEY_UNAVAILABLE');
    await b.sync.importChanges(forB);
    await b.sql.execute(`UPDATE users SET name = 'renamed on b' WHERE id = 'u2'`);
    const fromB = await b.sync.exportChanges(aId);
    expect(parseChangeset(fromB).header.keyId).not.toBe(keyId);
    await expectCode(r.sync.importChanges(fromB), 'SYNC_KEY_UNAVAILABLE');
    expect(await r.sql.query(`SELECT id FROM users WHERE id = 'u2'`)).toEqual([]);
    // No data loss for the honest devices.
    await a.sync.importChanges(fromB);
    expect(await a.sql.query(`SELECT id, name FROM users ORDER BY id`)).toEqual([
      { id: 'u2', name: 'renamed on b' },
      { id: 'ur', name: 'from r' },
    ]);
  });
});

describe('item 4: registry rows are not last-writer-wins data', () => {
  it("a device that set its own revoked_at = '' is still revoked: its changesets are refused and not relayed", async () => {
    const a = await openDevice('a');
    const b = await openDevice('b');
    const r = await openDevice('r');
    for (const d of [a, b, r]) await d.sync.enable();
    await pairDevices(a, b);
    await pairDevices(a, r);
    const [aId, bId, rId] = await ids(a, b, r);
    await exchange([a, b, r]);

    // Before its revocation r makes its registry row look "never revoked" and spreads it.
    await r.sql.execute(`UPDATE devices SET revoked_at = '' WHERE id = ?`, [rId]);
    for (const [x, xi] of [[a, aId], [b, bId]] as const) await x.sync.importChanges(await r.sync.exportChanges(xi));
    expect(await b.sql.queryOne(`SELECT revoked_at FROM devices WHERE id = ?`, [rId])).toEqual({ revoked_at: '' });

    await a.sync.revoke(rId);
    // r, not yet aware, writes and sends to b before b hears of the revocation: b takes it...
    await r.sql.execute(`INSERT INTO users (id, name) VALUES ('evil', 'written after revocation')`);
    await b.sync.importChanges(await r.sync.exportChanges(bId));
    // ...but a, which knows, refuses r's changes relayed by b, typed, and keeps b's own.
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('ub', 'from b')`);
    const relayed = await a.sync.importChanges(await b.sync.exportChanges(aId));
    expect(relayed.rejected.map((e) => e.code)).toContain('SYNC_UNTRUSTED');
    expect(await a.sql.query(`SELECT id FROM users ORDER BY id`)).toEqual([{ id: 'ub' }]);
    await expectCode(a.sync.importChanges(await r.sync.exportChanges(aId)), 'SYNC_UNTRUSTED');

    // b learns the revocation: whatever the synced column says, r is refused.
    await b.sync.importChanges(await a.sync.exportChanges(bId));
    expect((await b.sync.devices()).find((d) => d.id === rId)!.revokedAt).toMatch(/^\d{4}-/);
    for (const v of ['', null, 0]) {
      await r.sql.execute(`UPDATE devices SET revoked_at = ? WHERE id = ?`, [v, rId]);
      await expectCode(b.sync.importChanges(await r.sync.exportChanges(bId)), 'SYNC_UNTRUSTED');
    }
    await expectCode(b.sync.exportChanges(rId), 'SYNC_UNTRUSTED');
    // b no longer relays r's changes either.
    const later = await b.sync.exportChanges(aId);
    expect((await a.sync.importChanges(later)).rejected).toEqual([]);
    expect(await a.sql.query(`SELECT id FROM users WHERE id = 'evil'`)).toEqual([]);
  });

  it('a device planted or re-keyed in the registry with raw SQL is not trusted: no key is wrapped for it', async () => {
    const a = await openDevice('a');
    const b = await openDevice('b');
    const r = await openDevice('r');
    const x = await openDevice('x');
    for (const d of [a, b, r, x]) await d.sync.enable();
    await pairDevices(a, b);
    await pairDevices(a, r);
    const [aId, bId, rId, xId] = await ids(a, b, r, x);
    await exchange([a, b, r]);

    // r introduces its accomplice x and replaces a's X25519 key, by raw SQL on its own folder.
    const xRow = (await x.sync.devices()).find((d) => d.self)!;
    await r.sql.execute(`INSERT INTO devices (id, name, type, platform, public_key, kex_public_key, trust_level) VALUES (?, 'x', 'other', 'linux', ?, ?, 'trusted')`, [
      xId,
      xRow.signPublicKey,
      xRow.kexPublicKey,
    ]);
    await r.sql.execute(`UPDATE devices SET kex_public_key = ? WHERE id = ?`, [Buffer.alloc(32, 9), aId]);
    await b.sync.importChanges(await r.sync.exportChanges(bId));
    expect(await b.sql.queryOne(`SELECT count(*) AS n FROM devices WHERE id = ?`, [xId])).toEqual({ n: 1 });

    // b wraps its key for a (with a's real key) and r, never for x; nor exports to x.
    await b.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'private')`);
    const forA = await b.sync.exportChanges(aId);
    expect(Object.keys(parseChangeset(forA).header.wraps).sort()).toEqual([aId, rId].sort());
    await expectCode(b.sync.exportChanges(xId), 'SYNC_UNTRUSTED');
    await expectCode(x.sync.importChanges(forA), 'SYNC_UNTRUSTED');
    // a still opens b's changesets: its key in b's trust is the one a signed.
    expect((await a.sync.importChanges(forA)).applied).toBeGreaterThan(0);
    expect(await a.sql.query(`SELECT name FROM users`)).toEqual([{ name: 'private' }]);
  });
});
