/**
 * A sync transport moves sealed changesets between devices and nothing else: it never sees a
 * key or a plaintext byte. Delivery may lose, repeat or reorder changesets; the sync engine
 * tolerates all three.
 */
export interface SyncTransport {
  /** A short name for logs and status (`in-process`, `files`, `zeromq`). */
  readonly kind: string;
  /** Sends one changeset to device `to`. */
  send(to: string, changeset: Uint8Array): Promise<void>;
  /** Everything that arrived for this device since the last call. */
  receive(): Promise<Buffer[]>;
  /** Releases sockets and handles. Idempotent. */
  close(): Promise<void>;
}
