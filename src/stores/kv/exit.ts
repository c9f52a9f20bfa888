/**
 * Closes KV stores still open when the process exits. RocksDB must be shut down while the
 * addon is alive: torn down late (static destructors at exit, with background threads still
 * running) it can crash the process. One `exit` listener serves every store.
 */

interface Closable {
  close(): void;
}

const open = new Set<Closable>();
let hooked = false;

function closeAll(): void {
  for (const s of open) {
    try {
      s.close();
    } catch {
      // Exiting anyway: the write-ahead log already holds every acknowledged write.
    }
  }
  open.clear();
}

/** Registers a store to close at process exit. */
export function closeAtExit(s: Closable): void {
  open.add(s);
  if (!hooked) {
    hooked = true;
    process.on('exit', closeAll);
  }
}

/** Forgets a store closed by its owner. */
export function forgetAtExit(s: Closable): void {
  open.delete(s);
}
