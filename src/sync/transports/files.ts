/**
 * File transport (sneakernet: a USB stick or a shared folder). Changesets for device D are
 * files `<root>/<D>/<time>-<random>.aicosync`, written to a temporary name and renamed, so a
 * reader never sees half a file; `receive` reads and removes them.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AicoDataError, invalidArgument, toAicoError } from '../../errors.js';
import type { SyncTransport } from './types.js';

const ID = /^[0-9a-f]{32}$/;

export class FileTransport implements SyncTransport {
  readonly kind = 'files';
  readonly #root: string;
  readonly #self: string;
  #closed = false;

  /** `root` is the shared folder; `self` this device's id. */
  constructor(root: string, self: string) {
    if (typeof root !== 'string' || root === '') throw invalidArgument('root must be a folder path');
    if (!ID.test(self)) throw invalidArgument('self must be a device id');
    this.#root = root;
    this.#self = self;
  }

  async send(to: string, changeset: Uint8Array): Promise<void> {
    this.#check();
    if (!ID.test(to)) throw invalidArgument('to must be a device id');
    try {
      const dir = join(this.#root, to);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const name = `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}.aicosync`;
      writeFileSync(join(dir, `.${name}.tmp`), changeset, { mode: 0o600 });
      renameSync(join(dir, `.${name}.tmp`), join(dir, name));
    } catch (e) {
      throw toAicoError(e);
    }
  }

  async receive(): Promise<Buffer[]> {
    this.#check();
    const dir = join(this.#root, this.#self);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.aicosync')).sort();
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return [];
      throw toAicoError(e);
    }
    return names.map((n) => {
      const p = join(dir, n);
      const b = readFileSync(p);
      rmSync(p, { force: true });
      return b;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the file transport was closed');
  }
}
