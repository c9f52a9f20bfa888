/** Scanning files for plaintext canaries. */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every regular file below `dir` (recursively) modified at or after `sinceMs`; unreadable entries are skipped. */
export function filesSince(dir: string, sinceMs = 0, skip: (path: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (skip(p)) continue;
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile() && st.mtimeMs >= sinceMs) out.push(p);
      } catch {
        // vanished meanwhile (another process's temp file)
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * The needles' occurrences in `path`, read in 8 MiB chunks with an overlap so a needle that
 * spans two chunks is still found. Returns the needles found.
 */
export function needlesIn(path: string, needles: Buffer[]): Buffer[] {
  const found = new Set<Buffer>();
  const longest = Math.max(...needles.map((n) => n.length));
  const chunk = Buffer.alloc(8 << 20);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const window = Buffer.concat([carry, chunk.subarray(0, n)]);
      for (const needle of needles) if (window.includes(needle)) found.add(needle);
      carry = window.subarray(Math.max(0, window.length - longest + 1));
    }
  } finally {
    closeSync(fd);
  }
  return [...found];
}

/** A canary in the encodings a leak could take: UTF-8, UTF-16LE, base64 and hex of the UTF-8 bytes. */
export function encodings(canary: string): Buffer[] {
  const utf8 = Buffer.from(canary, 'utf8');
  return [utf8, Buffer.from(canary, 'utf16le'), Buffer.from(utf8.toString('base64').slice(0, 24)), Buffer.from(utf8.toString('hex'))];
}
