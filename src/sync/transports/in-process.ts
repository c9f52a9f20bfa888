/**
 * In-process transport (tests, and several data folders in one process): a hub of mailboxes.
 * `carried` keeps a copy of every byte sent through the hub, for inspection.
 */
import { AicoDataError } from '../../errors.js';
import type { SyncTransport } from './types.js';

export class InProcessSyncHub {
  readonly #boxes = new Map<string, Buffer[]>();
  /** Every changeset sent through the hub, in order (copies). */
  readonly carried: Buffer[] = [];

  /** The transport of device `self`. */
  connect(self: string): SyncTransport {
    if (!this.#boxes.has(self)) this.#boxes.set(self, []);
    let closed = false;
    const check = () => {
      if (closed) throw new AicoDataError('CLOSED', 'the in-process transport was closed');
    };
    return {
      kind: 'in-process',
      send: async (to, changeset) => {
        check();
        const copy = Buffer.from(changeset);
        this.carried.push(copy);
        const box = this.#boxes.get(to) ?? [];
        box.push(copy);
        this.#boxes.set(to, box);
      },
      receive: async () => {
        check();
        const box = this.#boxes.get(self) ?? [];
        this.#boxes.set(self, []);
        return box;
      },
      close: async () => {
        closed = true;
      },
    };
  }
}
