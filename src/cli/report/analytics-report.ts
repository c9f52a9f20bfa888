/**
 * The HTML of `aico-data report`: what a companion's owner wants to see, drawn as inline SVG:
 * messages per day, average sentiment per day, p95 response time per day, the weekday x hour
 * heatmap, conversation lengths, and the store sizes of `status`. Aggregates only: no message
 * text, no user names (the file may be shared more casually than the folder).
 */
import type { ActivityHeatmap, ConversationLengthBucket, DailyMetricsRow } from '../../stores/analytics/types.js';
import { barChart, esc, heatmap, htmlPage, htmlTable, lineChart } from './svg.js';

/** What the report draws (collected by the command, rendered here without any I/O). */
export interface AnalyticsReportInput {
  generatedAt: Date;
  days: number;
  userId?: string;
  daily: DailyMetricsRow[];
  heatmap: ActivityHeatmap;
  lengths: ConversationLengthBucket[];
  stores: Array<{ store: string; files: number; bytes: number }>;
  rows: Record<string, number>;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Every day of the window, so that quiet days show as gaps rather than vanish. */
function fillDays(daily: DailyMetricsRow[], days: number, end: Date): DailyMetricsRow[] {
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const out: DailyMetricsRow[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(end.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    out.push(byDay.get(day) ?? { day, messageCount: 0, avgSentiment: null, p95ResponseTimeMs: null });
  }
  // Days the report returned outside the window (clock differences) are kept too.
  for (const d of daily) if (!out.some((o) => o.day === d.day)) out.push(d);
  return out.sort((a, b) => a.day.localeCompare(b.day));
}

/** The whole page. */
export function renderAnalyticsReport(r: AnalyticsReportInput): string {
  const daily = fillDays(r.daily, r.days, r.generatedAt);
  const label = (d: string) => d.slice(5);
  const total = daily.reduce((n, d) => n + d.messageCount, 0);
  const mb = (b: number) => Math.round((b / 1048576) * 100) / 100;
  const body = [
    `<p>Generated ${esc(r.generatedAt.toISOString())} by <code>aico-data report</code>${r.userId ? ` for user <code>${esc(r.userId)}</code>` : ''}: the last ${r.days} days, ${total.toLocaleString('en-US')} messages. Aggregates only (no message text). This file loads nothing from the network.</p>`,
    '<h2>Activity</h2>',
    barChart('daily-messages', 'Messages per day', daily.map((d) => ({ label: label(d.day), value: d.messageCount }))),
    lineChart('avg-sentiment', 'Average sentiment per day (-1 to 1)', daily.map((d) => ({ label: label(d.day), value: d.avgSentiment })), { min: -1, max: 1 }),
    lineChart('p95-response', 'p95 response time per day (ms)', daily.map((d) => ({ label: label(d.day), value: d.p95ResponseTimeMs }))),
    heatmap('heatmap', `Messages by weekday and hour (UTC), last ${r.days} days`, WEEKDAYS, Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')), r.heatmap.grid),
    barChart('conversation-lengths', 'Conversations by length (messages per conversation)', r.lengths.map((b) => ({ label: b.minMessages === b.maxMessages ? String(b.minMessages) : `${b.minMessages}-${b.maxMessages}`, value: b.conversations }))),
    '<h2>Stores</h2>',
    barChart('store-sizes', 'Size on disk per store (MiB)', r.stores.map((s) => ({ label: s.store, value: mb(s.bytes), tip: `${s.store}: ${s.bytes.toLocaleString('en-US')} bytes in ${s.files} files` }))),
    htmlTable(r.stores.map((s) => ({ store: s.store, files: s.files, bytes: s.bytes.toLocaleString('en-US') }))),
    `<p>Rows: ${Object.entries(r.rows).map(([t, n]) => `${esc(t)} ${n.toLocaleString('en-US')}`).join(', ')}.</p>`,
  ].join('\n');
  return htmlPage('aico-data report', body);
}
