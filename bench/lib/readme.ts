/**
 * Copies the benchmark report into the README, between `<!-- bench:begin -->` and
 * `<!-- bench:end -->` (the rest of the README is left alone). Used by `bench/run.ts --readme`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

/** Replaces the text between the markers of `readmePath` with `body`; throws when a marker is missing. */
export function updateReadme(readmePath: string, body: string): void {
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${BEGIN} ... ${END} section`);
  writeFileSync(readmePath, `${text.slice(0, start + BEGIN.length)}\n${body.trim()}\n${text.slice(end)}`);
}
