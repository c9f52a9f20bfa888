/**
 * Figures of the reliability suite. Every part prints one summary line; the long run
 * (`AICO_RELIABILITY=long`) also merges them into `results/latest.json` and `results/latest.md`,
 * the table the README quotes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BASE_SEED, LONG } from './config.js';

/** One row of the summary table. */
export interface PartResult {
  /** Part number and name, e.g. `1 crash safety`. */
  part: string;
  /** What was tried, in words. */
  tried: string;
  /** How many trials / cases / inputs. */
  count: number;
  /** How many of them failed (must be 0). */
  failures: number;
  /** Further figures (per kind, timings). */
  figures: Record<string, number | string>;
  /** Notes: skips with their reason, what a failure was. */
  notes?: string;
  /** The seed the part ran with (set by {@link report}). */
  seed?: number;
}

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

function line(r: PartResult): string {
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `[reliability] ${r.part}: ${r.count} ${r.tried}, ${r.failures} failures${figures ? ` (${figures})` : ''}${r.notes ? ` — ${r.notes}` : ''}`;
}

/** Renders the markdown table of all parts recorded so far. */
export function renderMarkdown(parts: PartResult[], meta: { at: string; seed: number; node: string }): string {
  const rows = [...parts].sort((a, b) => a.part.localeCompare(b.part, 'en', { numeric: true }));
  const out = [
    `reliability suite (\`npm run test:reliability\`), ${meta.at}, node ${meta.node}`,
    '',
    '| part | what was tried | count | failures | figures | seed |',
    '|---|---|---:|---:|---|---:|',
    ...rows.map((r) => {
      const figures = Object.entries(r.figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return `| ${r.part} | ${r.tried}${r.notes ? ` (${r.notes})` : ''} | ${r.count} | ${r.failures} | ${figures} | ${r.seed ?? meta.seed} |`;
    }),
    '',
  ];
  return out.join('\n');
}

/** Prints the part's summary line and, in the long run, records it in `results/latest.*`. */
export function report(r: PartResult): void {
  console.log(line(r));
  if (!LONG) return;
  mkdirSync(RESULTS, { recursive: true });
  const jsonPath = `${RESULTS}latest.json`;
  let doc: { at: string; seed: number; node: string; parts: PartResult[] } = { at: '', seed: BASE_SEED, node: process.version, parts: [] };
  if (existsSync(jsonPath)) {
    try {
      doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as typeof doc;
    } catch {
      // a damaged results file is replaced
    }
  }
  doc.parts = [...doc.parts.filter((p) => p.part !== r.part), { ...r, seed: BASE_SEED }];
  doc.at = new Date().toISOString();
  doc.seed = BASE_SEED;
  doc.node = process.version;
  writeFileSync(jsonPath, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(`${RESULTS}latest.md`, renderMarkdown(doc.parts, doc));
}
