/**
 * File modes of a data folder: every file 0600 and every folder 0700, so that only the owner
 * can read even the sealed bytes (sizes, key ids, file names and the key file's KDF salt leak
 * metadata). Engines (libSQL, RocksDB, the Chroma server) create their files with the process
 * umask; the folder itself is made 0700 before they open it (nobody else can then reach what
 * they create inside), and whatever exists is tightened after open and after close.
 */
import { chmodSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** An entry whose mode is wider than the private one. */
export interface WideMode {
  path: string;
  kind: 'file' | 'dir';
  mode: number;
}

function walk(dir: string, visit: (path: string, kind: 'file' | 'dir', mode: number) => void): void {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return; // removed meanwhile
  }
  if (!st.isDirectory()) return;
  visit(dir, 'dir', st.mode & 0o777);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    let s: Stats;
    try {
      s = lstatSync(p);
    } catch {
      continue;
    }
    // Symlinks are not followed: a link could point out of the folder.
    if (s.isDirectory()) walk(p, visit);
    else if (s.isFile()) visit(p, 'file', s.mode & 0o777);
  }
}

/** Every file wider than 0600 and every folder wider than 0700 below (and including) `dir`. */
export function wideModes(dir: string): WideMode[] {
  const wide: WideMode[] = [];
  walk(dir, (path, kind, mode) => {
    if (mode & (kind === 'dir' ? ~PRIVATE_DIR_MODE & 0o777 : ~PRIVATE_FILE_MODE & 0o777)) wide.push({ path, kind, mode });
  });
  return wide;
}

/** Sets files to 0600 and folders to 0700 below `dir` (POSIX only; best effort: a file may vanish meanwhile). */
export function tightenModes(dir: string): void {
  if (process.platform === 'win32') return;
  for (const w of wideModes(dir)) {
    try {
      chmodSync(w.path, w.kind === 'dir' ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE);
    } catch {
      // vanished (a RocksDB temp file), or not ours: doctor reports what stays wide
    }
  }
}

/**
 * Makes an existing data folder 0700 before any engine opens it. The folder's own mode is the
 * gate: others cannot reach anything inside a 0700 folder, whatever mode the engines give their
 * files, so the layer never touches the process-wide umask (which would race with concurrent
 * opens and with the host's own file creation). New folders are made 0700 by the core.
 */
export function privateFolder(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const st = lstatSync(dir);
    if (st.isDirectory() && st.mode & 0o077) chmodSync(dir, PRIVATE_DIR_MODE);
  } catch {
    // missing (the open creates it 0700) or not ours (the open then reports what fails)
  }
}
