/**
 * Checksums of schema versions: SHA-256 over the normalized `up` and `down` statements.
 *
 * Normalization removes what cannot change meaning: comments, runs of white space (to one
 * space, or none next to `( ) , ;`), leading/trailing space and trailing semicolons. Text
 * inside string literals and quoted identifiers is kept byte for byte, and case is kept
 * (an identifier's case is visible in result column names).
 */
import { createHash } from 'node:crypto';

const TIGHT = new Set(['(', ')', ',', ';']);

/** Normalizes one statement (see the module comment). */
export function normalizeStatement(sql: string): string {
  let out = '';
  let pendingSpace = false;
  const push = (s: string) => {
    if (pendingSpace && out.length > 0 && !TIGHT.has(out[out.length - 1]!) && !TIGHT.has(s[0]!)) out += ' ';
    pendingSpace = false;
    out += s;
  };
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
      pendingSpace = true;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      pendingSpace = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      pendingSpace = true;
      i++;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        if (j >= n) break;
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) {
            j += 2; // doubled quote inside the literal
            continue;
          }
          break;
        }
        j++;
      }
      push(sql.slice(i, Math.min(j + 1, n)));
      i = j + 1;
    } else {
      let j = i + 1;
      while (j < n && !/[\s'"`[\-/(),;]/.test(sql[j]!)) j++;
      if (j === i + 1 && TIGHT.has(c)) {
        push(c);
      } else {
        push(sql.slice(i, j));
      }
      i = j;
    }
  }
  // trailing semicolons and spaces
  return out.replace(/[;\s]+$/u, '').trim();
}

/** SHA-256 (hex) over a version's normalized up and down statements. */
export function checksumVersion(version: { readonly up: readonly string[]; readonly down: readonly string[] }): string {
  const payload = JSON.stringify({ up: version.up.map(normalizeStatement), down: version.down.map(normalizeStatement) });
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}
