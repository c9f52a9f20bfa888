/**
 * The five pairing steps as this folder runs them: the `sync_pairing` session rows (expiring,
 * single use by compare-and-set) and trusting the other device at the end. The payloads, the
 * commitment and the code themselves are `pairing.ts`.
 */
import { invalidArgument, type AicoDataError } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import { fromB64u, randomId, usableKexKey } from './crypto.js';
import { insertTrustedDevice, listDevices, type SyncDevice } from './devices-table.js';
import type { Identity } from './identity.js';
import {
  commitment,
  decodeAnswer,
  decodeConfirm,
  decodeOffer,
  decodeReveal,
  encodeAnswer,
  encodeConfirm,
  encodeOffer,
  encodeReveal,
  newNonce,
  offerHash,
  PAIRING_TTL_MS,
  payloadKind,
  rejected,
  sameCode,
  sasCode,
  signPublicOf,
  transcriptHash,
  type Transcript,
} from './pairing.js';
import { ownDeviceCard } from './registry-bootstrap.js';
import { addOwnOp, loadTrust, type SignedCard } from './registry.js';
import type { SyncSession } from './session.js';

/**
 * One step of pairing (see `src/sync/pairing.ts`). On the new device: `createPairingOffer` ->
 * `completePairing(answer)` gives `step: 'reveal'` with the code to show -> `completePairing(confirm)`
 * gives `step: 'done'`. On the trusted device: `pair(offer)` gives `step: 'answer'` ->
 * `pair(reveal, code)` with the code the new device shows gives `step: 'confirm'`.
 */
export interface PairingStep {
  readonly step: 'answer' | 'reveal' | 'confirm' | 'done';
  /** The payload to carry to the other device (none after `done`). */
  readonly payload?: string;
  /** The 6-digit code (from `reveal` on). */
  readonly code?: string;
  /** The other device (at `confirm` and `done`; at `reveal` as announced, not yet trusted). */
  readonly device?: SyncDevice | { readonly id: string; readonly name: string };
}

async function pending(s: SyncSession, key: string): Promise<{ raw: string; st: Record<string, unknown> } | undefined> {
  const row = await s.sql.queryOne<{ offer: string }>(`SELECT offer FROM sync_pairing WHERE nonce = ?`, [key]);
  if (!row) return undefined;
  try {
    return { raw: row.offer, st: JSON.parse(row.offer) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Moves a session to its next stage, once (compare-and-set): a second use finds it gone. */
async function advance(tx: SqlExecutor, key: string, from: { raw: string }, next: Record<string, unknown>): Promise<void> {
  const r = await tx.execute(`UPDATE sync_pairing SET offer = ? WHERE nonce = ? AND offer = ?`, [JSON.stringify(next), key, from.raw]);
  if (r.changes === 0) throw rejected('this pairing session was already used');
}

/** Trusts the other device's card, unless the signed registry revoked it. */
async function trust(s: SyncSession, me: Identity, c: SignedCard, revoked: () => AicoDataError): Promise<SyncDevice> {
  await s.sql.transaction(async (tx) => {
    if ((await loadTrust(tx, me)).revoked.has(c.id)) throw revoked();
    await insertTrustedDevice(tx, c);
    await addOwnOp(tx, me, 'add', c.id, c);
  });
  return (await listDevices(s.sql, me.deviceId)).find((d) => d.id === c.id)!;
}

/** Step 1, on the new device: the offer, committing to this device's card and a secret nonce. */
export async function createOffer(s: SyncSession, me: Identity): Promise<{ payload: string; expiresAt: string }> {
  const sid = randomId(16);
  const nJ = newNonce();
  const card = await ownDeviceCard(s.sql, me);
  const exp = s.now() + PAIRING_TTL_MS;
  const payload = encodeOffer(card, sid, nJ, exp);
  await s.sql.execute(`INSERT INTO sync_pairing (nonce, offer) VALUES (?, ?)`, [`j:${sid}`, JSON.stringify({ stage: 'offered', nJ, card, exp, offer: offerHash(payload) })]);
  return { payload, expiresAt: new Date(exp).toISOString() };
}

/** Steps 2 and 4, on the trusted device: answer an offer, or check a reveal and the typed code. */
export async function pair(s: SyncSession, me: Identity, payload: string, code?: string): Promise<PairingStep> {
  const kind = payloadKind(payload);
  if (kind === 'offer') return answer(s, me, payload);
  if (kind === 'reveal') return confirm(s, me, payload, code);
  throw rejected('pair takes an offer (AICO-PAIR2:...) or a reveal (AICO-PAIRR2:...)');
}

/** Steps 3 and 5, on the new device: reveal the nonce and show the code, or accept the confirmation. */
export async function completePairing(s: SyncSession, me: Identity, payload: string): Promise<PairingStep> {
  const kind = payloadKind(payload);
  if (kind === 'answer') return reveal(s, me, payload);
  if (kind === 'confirm') return complete(s, me, payload);
  throw rejected('completePairing takes an answer (AICO-PAIRA2:...) or a confirmation (AICO-PAIRC2:...)');
}

async function answer(s: SyncSession, me: Identity, payload: string): Promise<PairingStep> {
  const offer = decodeOffer(payload);
  if (offer.card.id === me.deviceId) throw rejected('a device cannot pair with itself');
  // A low-order or malformed X25519 key would break every later key wrap for this device.
  if (!usableKexKey(me.kexPrivate, fromB64u(offer.card.kex, 'kex'))) throw rejected('the offer carries an unusable X25519 key');
  const now = s.now();
  if (offer.exp <= now) throw rejected('the offer expired: make a new one', { expiredAt: new Date(offer.exp).toISOString() });
  if ((await loadTrust(s.sql, me)).revoked.has(offer.card.id)) throw rejected('this device was revoked; it must reset its sync identity', { deviceId: offer.card.id });
  const nA = newNonce();
  const approver = await ownDeviceCard(s.sql, me);
  const st = { stage: 'answered', joiner: offer.card, commit: offer.commit, nA, approver, exp: now + PAIRING_TTL_MS };
  // One answer per offer, ever: a replayed offer finds its session taken.
  const r = await s.sql.execute(`INSERT OR IGNORE INTO sync_pairing (nonce, offer) VALUES (?, ?)`, [`a:${offer.s}`, JSON.stringify(st)]);
  if (r.changes === 0) throw rejected('this offer was already answered: make a new one');
  return { step: 'answer', payload: encodeAnswer(me, approver, offer.s, nA, payload), device: { id: offer.card.id, name: offer.card.name } };
}

async function confirm(s: SyncSession, me: Identity, payload: string, code: string | undefined): Promise<PairingStep> {
  const rv = decodeReveal(payload);
  if (typeof code !== 'string' || !/^\d{6}$/.test(code.trim())) throw invalidArgument('type the 6-digit code the new device shows');
  const key = `a:${rv.s}`;
  const p = await pending(s, key);
  if (p?.st.stage !== 'answered') throw rejected(p ? 'this pairing session was already used' : 'no pairing session of this device matches the reveal');
  // Burnt before anything is checked: whatever happens below, the session gives no second guess.
  await advance(s.sql, key, p, { stage: 'used' });
  const st = p.st as { joiner: SignedCard; commit: string; nA: string; approver: SignedCard; exp: number };
  if (s.now() > st.exp) throw rejected('the pairing session expired: start again');
  if (commitment(rv.s, st.joiner, rv.nJ) !== st.commit) throw rejected('the reveal does not match the offer it committed to');
  const t: Transcript = { s: rv.s, joiner: st.joiner, approver: st.approver, nA: st.nA, nJ: rv.nJ };
  if (!sameCode(code, sasCode(t))) throw rejected('the code does not match (compare the codes shown on both devices); start again');
  const device = await trust(s, me, st.joiner, () => rejected('this device was revoked; it must reset its sync identity', { deviceId: st.joiner.id }));
  return { step: 'confirm', payload: encodeConfirm(me, rv.s, transcriptHash(t)), code: sasCode(t), device };
}

async function reveal(s: SyncSession, me: Identity, payload: string): Promise<PairingStep> {
  const ans = decodeAnswer(payload);
  const key = `j:${ans.s}`;
  const p = await pending(s, key);
  if (p?.st.stage !== 'offered') throw rejected(p ? 'this pairing session was already used' : 'no pending offer of this device matches the answer');
  const st = p.st as { nJ: string; card: SignedCard; exp: number; offer: string };
  if (s.now() > st.exp) {
    await advance(s.sql, key, p, { stage: 'expired' });
    throw rejected('the offer expired: make a new one');
  }
  if (ans.card.id === me.deviceId) throw rejected('a device cannot pair with itself');
  if (!usableKexKey(me.kexPrivate, fromB64u(ans.card.kex, 'kex'))) throw rejected('the answer carries an unusable X25519 key');
  if (ans.offer !== st.offer) throw rejected('the answer is for another offer');
  await advance(s.sql, key, p, { stage: 'revealed', nJ: st.nJ, card: st.card, exp: st.exp, approver: ans.card, nA: ans.nA });
  const t: Transcript = { s: ans.s, joiner: st.card, approver: ans.card, nA: ans.nA, nJ: st.nJ };
  return { step: 'reveal', payload: encodeReveal(ans.s, st.nJ), code: sasCode(t), device: { id: ans.card.id, name: ans.card.name } };
}

async function complete(s: SyncSession, me: Identity, payload: string): Promise<PairingStep> {
  const pre = decodeConfirm(payload);
  const key = `j:${pre.s}`;
  const p = await pending(s, key);
  if (p?.st.stage !== 'revealed') throw rejected(p ? 'this pairing session was already used' : 'no pending pairing of this device matches the confirmation');
  const st = p.st as { nJ: string; card: SignedCard; exp: number; approver: SignedCard; nA: string };
  await advance(s.sql, key, p, { stage: 'used' });
  if (s.now() > st.exp) throw rejected('the pairing session expired: start again');
  const t: Transcript = { s: pre.s, joiner: st.card, approver: st.approver, nA: st.nA, nJ: st.nJ };
  // Verified under the approver key this device bound into the code, not a key the payload carries.
  const c = decodeConfirm(payload, signPublicOf(st.approver));
  if (!c.verified || c.t !== transcriptHash(t)) throw rejected('the confirmation is not from the device whose code was compared');
  const device = await trust(s, me, st.approver, () => rejected('the approving device was revoked'));
  return { step: 'done', code: sasCode(t), device };
}
