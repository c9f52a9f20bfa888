/**
 * ZeroMQ transports made for this device: CURVE with its X25519 key pair, peers admitted by the
 * signed registry only. The set is kept so that closing the data layer closes them.
 */
import { rawPrivate, usableKexKey } from './crypto.js';
import type { Identity } from './identity.js';
import { loadTrust } from './registry.js';
import type { SyncSession } from './session.js';
import { ZmqTransport } from './transports/zmq.js';

export class ZmqTransports {
  readonly #open = new Set<ZmqTransport>();

  /** A listening transport whose peer keys and admitted clients come from the signed registry. */
  async listen(s: SyncSession, me: Identity, options: { bind?: string; sendTimeoutMs?: number }): Promise<ZmqTransport> {
    const t = await ZmqTransport.listen({
      ...(options.bind !== undefined ? { bind: options.bind } : {}),
      ...(options.sendTimeoutMs !== undefined ? { sendTimeoutMs: options.sendTimeoutMs } : {}),
      publicKey: me.kexPublic,
      secretKey: rawPrivate(me.kexPrivate),
      peerKey: async (id) => {
        const m = (await loadTrust(s.sql, me)).members.get(id);
        // An unusable registry key (zero bytes, low order) is no CURVE key: refused as untrusted.
        return m?.kex && usableKexKey(me.kexPrivate, m.kex) ? Buffer.from(m.kex) : undefined;
      },
      clientAllowed: async (key) => [...(await loadTrust(s.sql, me)).members.values()].some((m) => m.kex?.equals(Buffer.from(key))),
    });
    this.#open.add(t);
    return t;
  }

  /** Closes every transport made here; a failing close does not keep the others open. */
  async close(): Promise<void> {
    for (const t of this.#open) await t.close().catch(() => undefined);
    this.#open.clear();
  }
}
