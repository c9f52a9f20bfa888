import { AicoDataError, native, nativeAsync } from '../../errors.js';
import type { NativeCursor } from '../../native/index.js';

/**
 * One `iterate()` in progress: the native cursor (a reader of its own, a batch read ahead) and
 * why it stopped early. `next` gives the next batch, `undefined` at the end.
 */
export class Cursor<T> {
  readonly #n: NativeCursor;
  readonly #open: OpenCursors;
  /** Set when the store or the statement closed under the iteration. */
  #stopped: AicoDataError | undefined;

  constructor(n: NativeCursor, open: OpenCursors) {
    this.#n = n;
    this.#open = open;
    open.add(this);
  }

  nextSync(): T[] | undefined {
    if (this.#stopped) throw this.#stopped;
    const b = native(() => this.#n.next()) as T[] | null;
    return this.#end(b);
  }

  async next(): Promise<T[] | undefined> {
    if (this.#stopped) throw this.#stopped;
    const b = (await nativeAsync(() => this.#n.nextAsync())) as T[] | null;
    return this.#end(b);
  }

  /** Gives the reader back (idempotent); `why` makes later calls fail with it. */
  close(why?: AicoDataError): void {
    if (why && !this.#stopped) this.#stopped = why;
    this.#open.delete(this);
    this.#n.close();
  }

  #end(b: T[] | null): T[] | undefined {
    // A batch that ended because the store closed under it is CLOSED, not the end of the rows.
    if (this.#stopped) throw this.#stopped;
    if (b === null) this.close();
    return b ?? undefined;
  }
}

/** The store's open cursors: closing the store stops them with `CLOSED`. */
export class OpenCursors {
  readonly #set = new Set<Cursor<unknown>>();

  add(c: Cursor<unknown>): void {
    this.#set.add(c);
  }

  delete(c: Cursor<unknown>): void {
    this.#set.delete(c);
  }

  closeAll(): void {
    for (const c of [...this.#set]) c.close(new AicoDataError('CLOSED', 'closed: the SQL store closed during iterate()', undefined, { hint: 'finish iterating before closing the data layer' }));
  }

  get size(): number {
    return this.#set.size;
  }
}
