/**
 * Self-contained HTML with inline SVG charts: no script, no font, no image, no network at view
 * time (a Content-Security-Policy of `default-src 'none'` enforces it). Each chart is an
 * `<svg data-chart="NAME">` whose marks carry `data-series`, so a test can check in the
 * rendered DOM that every series drew.
 */

/** Escapes text for HTML/SVG content and attributes. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const W = 720;
const H = 220;
const PAD = { l: 56, r: 16, t: 16, b: 36 };
const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : Number(v.toPrecision(3)).toString());

function frame(name: string, title: string, body: string, height = H): string {
  return `<figure><figcaption>${esc(title)}</figcaption><svg data-chart="${esc(name)}" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">${body}</svg></figure>`;
}

function axes(min: number, max: number, labels: string[], height = H): string {
  const y = (v: number) => PAD.t + (1 - (v - min) / (max - min || 1)) * (height - PAD.t - PAD.b);
  let s = `<line x1="${PAD.l}" y1="${height - PAD.b}" x2="${W - PAD.r}" y2="${height - PAD.b}" class="axis"/>`;
  for (const v of [min, (min + max) / 2, max]) s += `<text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end" class="tick">${esc(fmt(v))}</text><line x1="${PAD.l}" y1="${y(v)}" x2="${W - PAD.r}" y2="${y(v)}" class="grid"/>`;
  const step = Math.max(1, Math.ceil(labels.length / 8));
  const x = (i: number) => PAD.l + ((i + 0.5) / labels.length) * (W - PAD.l - PAD.r);
  labels.forEach((l, i) => {
    if (i % step === 0) s += `<text x="${x(i)}" y="${height - PAD.b + 16}" text-anchor="middle" class="tick">${esc(l)}</text>`;
  });
  return s;
}

/** A bar per point. */
export function barChart(name: string, title: string, points: ReadonlyArray<{ label: string; value: number; tip?: string }>): string {
  if (points.length === 0) return frame(name, `${title}: no data`, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  const max = Math.max(...points.map((p) => p.value), 1);
  const bw = (W - PAD.l - PAD.r) / points.length;
  const bars = points
    .map((p, i) => {
      const h = (p.value / max) * (H - PAD.t - PAD.b);
      return `<rect data-series="${esc(name)}" x="${PAD.l + i * bw + bw * 0.1}" y="${H - PAD.b - h}" width="${Math.max(bw * 0.8, 1)}" height="${h}" class="bar"><title>${esc(p.tip ?? `${p.label}: ${fmt(p.value)}`)}</title></rect>`;
    })
    .join('');
  return frame(name, title, axes(0, max, points.map((p) => p.label)) + bars);
}

/** A line through the non-null points (gaps where a value is null), with a dot per point. */
export function lineChart(name: string, title: string, points: ReadonlyArray<{ label: string; value: number | null }>, range?: { min: number; max: number }): string {
  const vals = points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (vals.length === 0) return frame(name, `${title}: no data`, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  const min = range?.min ?? Math.min(0, ...vals);
  const max = range?.max ?? Math.max(...vals, min + 1);
  const x = (i: number) => PAD.l + ((i + 0.5) / points.length) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - min) / (max - min || 1)) * (H - PAD.t - PAD.b);
  let d = '';
  let pen = false;
  let dots = '';
  points.forEach((p, i) => {
    if (p.value === null || !Number.isFinite(p.value)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
    pen = true;
    dots += `<circle data-series="${esc(name)}" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" class="dot"><title>${esc(`${p.label}: ${fmt(p.value)}`)}</title></circle>`;
  });
  return frame(name, title, `${axes(min, max, points.map((p) => p.label))}<path data-series="${esc(name)}" d="${d}" class="line"/>${dots}`);
}

/** A rows x columns grid of cells shaded by value. */
export function heatmap(name: string, title: string, rows: readonly string[], cols: readonly string[], grid: ReadonlyArray<ReadonlyArray<number>>): string {
  const cw = (W - PAD.l - PAD.r) / cols.length;
  const ch = 20;
  const height = PAD.t + rows.length * ch + 28;
  const max = Math.max(1, ...grid.flat());
  let s = '';
  rows.forEach((r, ri) => {
    s += `<text x="${PAD.l - 6}" y="${PAD.t + ri * ch + 14}" text-anchor="end" class="tick">${esc(r)}</text>`;
    cols.forEach((c, ci) => {
      const v = grid[ri]?.[ci] ?? 0;
      const a = v === 0 ? 0.04 : 0.15 + 0.85 * (v / max);
      s += `<rect data-series="${esc(name)}" x="${PAD.l + ci * cw}" y="${PAD.t + ri * ch}" width="${cw - 1}" height="${ch - 1}" fill="rgb(37,99,235)" fill-opacity="${a.toFixed(3)}"><title>${esc(`${r} ${c}: ${v}`)}</title></rect>`;
    });
  });
  cols.forEach((c, ci) => {
    if (ci % 3 === 0) s += `<text x="${PAD.l + ci * cw + cw / 2}" y="${PAD.t + rows.length * ch + 16}" text-anchor="middle" class="tick">${esc(c)}</text>`;
  });
  return frame(name, title, s, height);
}

/** Horizontal bars of a ratio per row, with the goal drawn as a marker on each row. */
export function ratioChart(name: string, title: string, rows: ReadonlyArray<{ label: string; ratio: number; goalMin?: number; goalMax?: number; met: boolean | null }>): string {
  const rh = 22;
  const left = 380;
  const height = PAD.t + rows.length * rh + 30;
  const max = Math.max(1.5, ...rows.map((r) => Math.max(r.ratio, r.goalMin ?? 0, r.goalMax ?? 0))) * 1.05;
  const x = (v: number) => left + (v / max) * (W - left - PAD.r);
  let s = `<line x1="${x(1)}" y1="${PAD.t - 4}" x2="${x(1)}" y2="${height - 26}" class="grid"/><text x="${x(1)}" y="${height - 10}" text-anchor="middle" class="tick">1.00x</text>`;
  rows.forEach((r, i) => {
    const y = PAD.t + i * rh;
    const cls = r.met === null ? 'bar' : r.met ? 'bar met' : 'bar missed';
    s += `<text x="${left - 6}" y="${y + 15}" text-anchor="end" class="tick small">${esc(r.label.length > 70 ? `${r.label.slice(0, 69)}…` : r.label)}<title>${esc(r.label)}</title></text>`;
    s += `<rect data-series="ratio" x="${left}" y="${y + 3}" width="${Math.max(x(r.ratio) - left, 1)}" height="${rh - 6}" class="${cls}"><title>${esc(`${r.label}: ${r.ratio.toFixed(2)}x`)}</title></rect>`;
    for (const g of [r.goalMin, r.goalMax]) {
      if (g !== undefined) s += `<line data-series="goal" x1="${x(g)}" y1="${y}" x2="${x(g)}" y2="${y + rh}" class="goal"><title>${esc(`goal ${g.toFixed(2)}x`)}</title></line>`;
    }
    s += `<text x="${Math.min(x(r.ratio) + 4, W - 40)}" y="${y + 15}" class="tick">${esc(r.ratio.toFixed(2))}x</text>`;
  });
  return frame(name, title, s, height);
}

/** A whole page: title, intro paragraphs, sections of charts and tables. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:780px;color:#111;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto;background:#fafafa;border:1px solid #e5e7eb}
.axis{stroke:#555}.grid{stroke:#ddd;stroke-dasharray:3 3}.tick{font-size:11px;fill:#444}.small{font-size:9.5px}
.bar{fill:#2563eb}.bar.met{fill:#16a34a}.bar.missed{fill:#dc2626}.line{fill:none;stroke:#2563eb;stroke-width:2}.dot{fill:#2563eb}
.goal{stroke:#111;stroke-width:2}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}
.muted{color:#666}
</style></head><body>
<h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

/** A table of rows (all values escaped). */
export function htmlTable(rows: ReadonlyArray<Record<string, unknown>>, columns?: readonly string[]): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  const cols = columns ?? Object.keys(rows[0]!);
  return `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(r[c] ?? '')}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}
