/**
 * The pure parts of the trust boundary (no data folder needed): the pairing commitment and code,
 * and trust as a function of signed registry operations.
 */
import { describe, expect, it } from 'vitest';
import { deviceIdOf, generateDeviceKeys } from '../../src/sync/crypto.js';
import type { Identity } from '../../src/sync/identity.js';
import { commitment, decodeAnswer, decodeConfirm, decodeOffer, encodeAnswer, encodeConfirm, encodeOffer, sasCode, transcriptHash } from '../../src/sync/pairing.js';
import { computeTrust, ownCard, signOp, type RegistryOpBody, type WireOp } from '../../src/sync/registry.js';

function device(name: string): { me: Identity; card: ReturnType<typeof ownCard> } {
  const k = generateDeviceKeys();
  const me: Identity = { deviceId: deviceIdOf(k.signPublic), ...k };
  return { me, card: ownCard(me, { name, type: 'other', platform: 'linux' }) };
}

function op(by: Identity, body: Omit<RegistryOpBody, 'v' | 'signer' | 'at'>): { id: string; body: RegistryOpBody; wire: WireOp } {
  const full: RegistryOpBody = { v: 1, signer: by.deviceId, at: '2026-01-01T00:00:00.000Z', ...body };
  const wire = signOp(by.signPrivate, full);
  return { id: wire.b, body: full, wire };
}

describe('pairing codec', () => {
  it('binds the code to both cards and both nonces; the confirm verifies only under the bound key', () => {
    const j = device('phone');
    const a = device('desktop');
    const m = device('evil');
    const offer = encodeOffer(j.card, 'a'.repeat(32), 'b'.repeat(64), Date.now() + 1000);
    const o = decodeOffer(offer);
    expect(o.commit).toBe(commitment(o.s, j.card, 'b'.repeat(64)));
    const ans = decodeAnswer(encodeAnswer(a.me, a.card, o.s, 'c'.repeat(64), offer));
    const t = { s: o.s, joiner: j.card, approver: ans.card, nA: ans.nA, nJ: 'b'.repeat(64) };
    expect(sasCode(t)).toMatch(/^\d{6}$/);
    expect(sasCode({ ...t, approver: m.card })).not.toBe(sasCode(t));
    const conf = encodeConfirm(a.me, o.s, transcriptHash(t));
    expect(decodeConfirm(conf, a.me.signPublic).verified).toBe(true);
    expect(decodeConfirm(conf, m.me.signPublic).verified).toBe(false);
    expect(decodeConfirm(encodeConfirm(m.me, o.s, transcriptHash(t)), a.me.signPublic).verified).toBe(false);
  });
});

describe('trust from signed operations', () => {
  it('members by vouching from self; revocation is monotone; a revoked voucher vouches for nobody', () => {
    const a = device('a');
    const b = device('b');
    const r = device('r');
    const x = device('x');
    const ops = [
      op(a.me, { kind: 'add', subject: b.me.deviceId, card: b.card }),
      op(b.me, { kind: 'add', subject: a.me.deviceId, card: a.card }),
      op(a.me, { kind: 'add', subject: r.me.deviceId, card: r.card }),
      op(r.me, { kind: 'add', subject: x.me.deviceId, card: x.card }),
    ];
    const before = computeTrust(b.me.deviceId, b.me.signPublic, ops);
    expect([...before.members.keys()].sort()).toEqual([a.me.deviceId, r.me.deviceId, x.me.deviceId].sort());
    const revoked = [...ops, op(a.me, { kind: 'revoke', subject: r.me.deviceId })];
    const after = computeTrust(b.me.deviceId, b.me.signPublic, revoked);
    expect([...after.members.keys()]).toEqual([a.me.deviceId]);
    expect(after.revoked.has(r.me.deviceId)).toBe(true);
    // A forged signature counts for nothing; an operation by an outsider neither.
    const forged = { ...op(a.me, { kind: 'revoke', subject: b.me.deviceId }) };
    const tampered = { ...forged, wire: { b: forged.wire.b, s: op(x.me, { kind: 'revoke', subject: b.me.deviceId }).wire.s } };
    const outsider = device('o');
    const t2 = computeTrust(b.me.deviceId, b.me.signPublic, [...revoked, tampered, op(outsider.me, { kind: 'revoke', subject: a.me.deviceId })]);
    expect([...t2.members.keys()]).toEqual([a.me.deviceId]);
    // A card swapped by someone else (no subject signature) never replaces the vouched key.
    const fake = { ...a.card, kex: Buffer.alloc(32, 9).toString('base64url') };
    const t3 = computeTrust(b.me.deviceId, b.me.signPublic, [...ops, op(r.me, { kind: 'add', subject: a.me.deviceId, card: fake })]);
    expect(t3.members.get(a.me.deviceId)!.kex!.equals(a.me.kexPublic)).toBe(true);
  });
});
