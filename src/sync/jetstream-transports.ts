/**
 * JetStream relay transports made for this device. Mailbox ids are keyed hashes of the devices'
 * X25519 public keys (HMAC-SHA256 keyed with the key, over a fixed label, 16 bytes): every member
 * computes every member's from the signed registry; the relay, which never sees those keys (they
 * travel in pairing payloads and sealed registry operations only), cannot tell which device a
 * mailbox belongs to, nor link it to the device ids in changeset headers. Peers come from the
 * signed registry at every call, so a revocation takes effect at the next send or receive.
 */
import { createHmac } from 'node:crypto';
import { kexKeysOf } from './devices-table.js';
import type { Identity } from './identity.js';
import { loadTrust } from './registry.js';
import type { SyncSession } from './session.js';
import { JetStreamTransport, type JetStreamTransportOptions, type RelayDirectory } from './transports/jetstream.js';

/** The relay mailbox id of the device with this X25519 public key. */
export function relayMailbox(kexPublic: Uint8Array): string {
  return createHmac('sha256', kexPublic).update('aico-data/sync/relay/mailbox/v1').digest().subarray(0, 16).toString('hex');
}

function directory(s: SyncSession, me: Identity): RelayDirectory {
  return {
    self: relayMailbox(me.kexPublic),
    mailboxOf: async (id) => {
      const kex = (await loadTrust(s.sql, me)).members.get(id)?.kex;
      return kex ? relayMailbox(kex) : undefined;
    },
    peers: async () => new Set([...(await loadTrust(s.sql, me)).members.values()].flatMap((m) => (m.kex ? [relayMailbox(m.kex)] : []))),
    revoked: async () => {
      const ids = [...(await loadTrust(s.sql, me)).revoked].filter((id) => id !== me.deviceId);
      return new Set([...(await kexKeysOf(s.sql, ids)).values()].map(relayMailbox));
    },
  };
}

export class JetStreamTransports {
  readonly #open = new Set<JetStreamTransport>();

  /** Connects a relay transport for this device. */
  async connect(s: SyncSession, me: Identity, options: JetStreamTransportOptions): Promise<JetStreamTransport> {
    const t = await JetStreamTransport.connect(options, directory(s, me));
    this.#open.add(t);
    return t;
  }

  /** Closes every transport made here. */
  async close(): Promise<void> {
    for (const t of this.#open) await t.close().catch(() => undefined);
    this.#open.clear();
  }
}
