/** Progress of a backup, restore or key rotation, reported every ~100 ms while it runs. */
export interface BackupProgress {
  /** What runs now: `sql`, `kv`, `write` (backup); `restore`; `sql`, `kv`, `derived`, `commit` (rotation). */
  readonly phase: string;
  /** Work done in this phase (bytes for `write` and `restore`, records for `kv`). */
  readonly done: number;
  /** Work in this phase (0 when not known in advance). */
  readonly total: number;
}

/** Options of {@link DataLayer.backup}. */
export interface BackupOptions {
  /** Called with the progress while the backup runs, and once at the end. */
  onProgress?: (progress: BackupProgress) => void;
  /** Extra JSON-serialisable metadata recorded in the (encrypted) manifest, e.g. an app version. */
  metadata?: Record<string, unknown>;
}

/** What {@link DataLayer.backup} wrote. */
export interface BackupResult {
  /** The backup file. */
  readonly file: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Files inside (the libSQL database, the RocksDB checkpoint's files). */
  readonly files: number;
  /** Public id of the data key the backup is tied to. */
  readonly keyId: string;
  /** Random id of this backup (its key is derived from the data key and this id). */
  readonly backupId: string;
  /** libSQL pages copied. */
  readonly sqlPages: number;
  /** When it was taken. */
  readonly createdAt: Date;
}

/** Options of {@link restoreBackup}. */
export interface RestoreBackupOptions {
  /** The backup file. */
  file: string;
  /** The folder to restore into: missing or empty. */
  dir: string;
  /** The master password as it was when the backup was taken. */
  password: string;
  /** Called with the progress while the restore runs, and once at the end. */
  onProgress?: (progress: BackupProgress) => void;
}

/** The manifest stored (encrypted) in every backup. */
export interface BackupManifest {
  readonly format: string;
  readonly keyId: string;
  readonly backupId: string;
  readonly createdMs: number;
  readonly sqlPages: number;
  /** True when the backup holds the RocksDB KV store. */
  readonly kv: boolean;
  /** `rebuild`: the DuckDB analytics are re-synced from libSQL at the first open. */
  readonly analytics: 'rebuild';
  /** `rebuild`: Chroma is refilled from libSQL with `data.repair()` (memories are re-embedded). */
  readonly chroma: 'rebuild';
  readonly files: ReadonlyArray<{ readonly name: string; readonly size: number; readonly sha256: string }>;
  /** What the data layer recorded: schema versions, and the caller's `metadata`. */
  readonly app: {
    readonly schemaVersions: Record<string, number>;
    readonly metadata?: Record<string, unknown>;
  };
}

/** What {@link restoreBackup} restored. */
export interface RestoreBackupResult {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  readonly keyId: string;
  readonly backupId: string;
  readonly createdAt: Date;
  readonly manifest: BackupManifest;
}

/** Options of {@link DataLayer.rotateKeys}. */
export interface RotateKeysOptions {
  /** Called with the progress while the rotation runs, and once at the end. */
  onProgress?: (progress: BackupProgress) => void;
}

/** What a key rotation did. */
export interface RotateKeysResult {
  /** The data key that is gone. */
  readonly oldKeyId: string;
  /** The data key every store is now encrypted under. */
  readonly newKeyId: string;
  /** True when this finished a rotation that a crash had interrupted. */
  readonly resumed: boolean;
  /** libSQL pages re-encrypted. */
  readonly sqlPages: number;
  /** RocksDB records re-sealed. */
  readonly kvRecords: number;
  /** Derived stores dropped for a rebuild: `analytics` (re-synced at open), `chroma` (`data.repair()`). */
  readonly dropped: readonly string[];
}
