/**
 * What `AsyncDisposableStack` does (Node 24+), for Node 20: disposers registered as components
 * are built, run in reverse order, each one even when an earlier one failed. The data layer's
 * `close()` and its open-failure path both unwind one such stack, so they close the same things
 * in the same order.
 */
export class DisposalStack {
  #disposers: (() => unknown)[] = [];
  #disposed = false;

  /** Registers `dispose` to run before everything registered earlier. */
  defer(dispose: () => unknown): void {
    if (this.#disposed) throw new Error('DisposalStack: already disposed');
    this.#disposers.push(dispose);
  }

  /** Registers `value`'s disposal (`dispose(value)`) and returns `value`. */
  use<T>(value: T, dispose: (value: T) => unknown): T {
    this.defer(() => dispose(value));
    return value;
  }

  /**
   * Runs every disposer, last registered first, awaiting each. Idempotent. Throws the first
   * error a disposer threw, after all of them ran.
   */
  async disposeAsync(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    let first: { error: unknown } | undefined;
    for (const dispose of this.#disposers.splice(0).reverse()) {
      try {
        await dispose();
      } catch (error) {
        first ??= { error };
      }
    }
    if (first) throw first.error;
  }
}
