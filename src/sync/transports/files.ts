/**
 * File transport (sneakernet: a USB stick or a shared folder). Changesets for device D are
 * files `<root>/<D>/<time>-<random>.aicosync`, written to a temporary name and renamed, so a
 * reader never sees half a file; `receive` reads and removes them.
 *
 * The folder is shared, so anyone with write access to it may plant anything there. `receive`
 * therefore reads only regular files of at most `maxBytes` (default: the largest valid
 * changeset): each entry is `lstat`ed (a symlink, FIFO, device or folder is never opened), then
 * opened with `O_NOFOLLOW | O_NONBLOCK` and `fstat`ed again (an entry swapped after the check is
 * caught on the open descriptor; a FIFO cannot block the open), and read asynchronously with a
 * bounded length, so no entry can freeze the JS thread or exhaust memory. A refused entry is
 * moved to `<root>/<D>/rejected/` (never followed) and reported with a typed error in
 * {@link FileTransport.rejected}; the others are delivered.
 */
import { constants, mkdirSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AicoDataError, invalidArgument, toAicoError } from '../../errors.js';
import { MAX_CHANGESET_BYTES } from '../envelope.js';
import type { SyncTransport } from './types.js';

const ID = /^[0-9a-f]{32}$/;

/** An entry of the inbox that `receive` refused, with why. */
export interface FileTransportRejection {
  readonly name: string;
  /** `CORRUPT` (not a regular file, or too large) or `IO` (could not be read). */
  readonly error: AicoDataError;
}

/** Options of {@link FileTransport}. */
export interface FileTransportOptions {
  /** Largest file `receive` reads (default {@link MAX_CHANGESET_BYTES}). */
  readonly maxBytes?: number;
}

function kindOf(st: { isFIFO(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isDirectory(): boolean; isSocket(): boolean }): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device file';
  if (st.isDirectory()) return 'a folder';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export class FileTransport implements SyncTransport {
  readonly kind = 'files';
  readonly #root: string;
  readonly #self: string;
  readonly #maxBytes: number;
  #closed = false;
  /** Entries the last {@link receive} refused (typed errors), for status and logs. */
  rejected: readonly FileTransportRejection[] = [];

  /** `root` is the shared folder; `self` this device's id. */
  constructor(root: string, self: string, options: FileTransportOptions = {}) {
    if (typeof root !== 'string' || root === '') throw invalidArgument('root must be a folder path');
    if (!ID.test(self)) throw invalidArgument('self must be a device id');
    const max = options.maxBytes ?? MAX_CHANGESET_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) throw invalidArgument('maxBytes must be a positive integer');
    this.#root = root;
    this.#self = self;
    this.#maxBytes = max;
  }

  async send(to: string, changeset: Uint8Array): Promise<void> {
    this.#check();
    if (!ID.test(to)) throw invalidArgument('to must be a device id');
    try {
      const dir = join(this.#root, to);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const name = `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}.aicosync`;
      // `wx`: O_CREAT | O_EXCL, so a planted file or symlink at the name is never written through.
      await writeFile(join(dir, `.${name}.tmp`), changeset, { mode: 0o600, flag: 'wx' });
      await rename(join(dir, `.${name}.tmp`), join(dir, name));
    } catch (e) {
      throw toAicoError(e);
    }
  }

  async receive(): Promise<Buffer[]> {
    this.#check();
    const dir = join(this.#root, this.#self);
    const rejected: FileTransportRejection[] = [];
    this.rejected = rejected;
    try {
      // The inbox itself must be a real folder, not a link to somewhere else.
      const st = await lstat(dir);
      if (!st.isDirectory()) {
        rejected.push({ name: '.', error: new AicoDataError('CORRUPT', `the inbox ${dir} is ${kindOf(st)}, not a folder: nothing read`, { path: dir }) });
        return [];
      }
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return [];
      throw toAicoError(e);
    }
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.aicosync')).sort();
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return [];
      throw toAicoError(e);
    }
    const out: Buffer[] = [];
    for (const n of names) {
      const p = join(dir, n);
      const r = await this.#readOne(p, n);
      if (r instanceof AicoDataError) {
        rejected.push({ name: n, error: r });
        await this.#setAside(dir, n);
        continue;
      }
      if (r === undefined) continue; // gone meanwhile (another reader)
      out.push(r);
      await rm(p, { force: true });
    }
    return out;
  }

  /** One entry: its bytes, a typed refusal, or `undefined` when it vanished. */
  async #readOne(p: string, name: string): Promise<Buffer | AicoDataError | undefined> {
    const refuse = (why: string) => new AicoDataError('CORRUPT', `file transport: ${name} was not read: ${why}`, { name });
    let fh: FileHandle | undefined;
    try {
      const st = await lstat(p);
      if (!st.isFile()) return refuse(`it is ${kindOf(st)}`);
      if (st.size > this.#maxBytes) return refuse(`${st.size} bytes, more than ${this.#maxBytes}`);
      fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const fst = await fh.stat();
      if (!fst.isFile()) return refuse(`it is ${kindOf(fst)}`);
      if (fst.size > this.#maxBytes) return refuse(`${fst.size} bytes, more than ${this.#maxBytes}`);
      // Read at most maxBytes + 1: a file growing after the stat is caught, never read whole.
      const buf = Buffer.alloc(Math.min(fst.size, this.#maxBytes) + 1);
      let at = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, at, buf.length - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
        if (at === buf.length) {
          if (at > this.#maxBytes) return refuse(`more than ${this.#maxBytes} bytes`);
          break;
        }
      }
      return buf.subarray(0, at);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT') return undefined;
      // O_NOFOLLOW on a symlink swapped in after the lstat.
      if (code === 'ELOOP' || code === 'EMLINK') return refuse('it is a symbolic link');
      const err = toAicoError(e);
      return new AicoDataError(err.code === 'INTERNAL' ? 'IO' : err.code, `file transport: ${name} could not be read: ${err.message}`, { name }, { cause: e });
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  /** Moves a refused entry (the entry itself, never what it points to) out of the inbox. */
  async #setAside(dir: string, name: string): Promise<void> {
    try {
      await mkdir(join(dir, 'rejected'), { recursive: true, mode: 0o700 });
      await rename(join(dir, name), join(dir, 'rejected', `${Date.now()}-${randomBytes(4).toString('hex')}-${name}`));
    } catch {
      // Left in place: it is refused again next time, never read.
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the file transport was closed');
  }
}
