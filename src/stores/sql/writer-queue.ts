/**
 * Orders asynchronous writers in JavaScript. Without it, async writes issued while a
 * transaction is open would each park a libuv worker thread waiting for the single writer
 * connection, and enough of them would starve the transaction's own statements of threads.
 */
export class WriterQueue {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier holder has finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
