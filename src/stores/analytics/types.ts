import type { SqlValue } from '../sql/types.js';

/** Options of the analytics store (DuckDB, derived from libSQL). */
export interface AnalyticsOptions {
  /** DuckDB memory limit in MiB (default 1024). There is no spill directory: a query that needs more fails with `SQL_ERROR`. */
  memoryLimitMb?: number;
  /** DuckDB worker threads (default: the cores, at most 4). */
  threads?: number;
  /** Keep a sealed snapshot in the data folder so reopening restores instead of rebuilding (default true). */
  snapshots?: boolean;
  /** Write a snapshot on close when something changed (default true). */
  snapshotOnClose?: boolean;
  /** Install change-tracking triggers in libSQL when missing (default true); without them every sync rescans. */
  installTracking?: boolean;
  /** Debounce of {@link AnalyticsStore.requestSync} in ms (default 250). */
  syncDebounceMs?: number;
  /** Receives store events (snapshot rejected and rebuilt, tracking installed...). Default: warnings go to `console.warn`. */
  onEvent?: (event: AnalyticsEvent) => void;
}

/** What one sync did to one table. */
export interface TableSync {
  name: string;
  inserted: number;
  updated: number;
  deleted: number;
  /** The table was rebuilt from scratch (`inserted` is then its row count). */
  full: boolean;
  /** Source values that did not fit their column type and were stored as NULL. */
  coerced: number;
}

/** What one sync did. */
export interface SyncReport {
  tables: TableSync[];
  /** Change-clock position now reflected in the analytics tables (-1 without change tracking). */
  watermark: number;
  ms: number;
}

/** A snapshot written or restored. */
export interface SnapshotInfo {
  bytes: number;
  tables: number;
  rows: number;
  ms: number;
}

/** What the store holds and how fresh it is. */
export interface AnalyticsStatus {
  tables: { name: string; rows: number; watermark: number }[];
  /** Changed since the last snapshot. */
  dirty: boolean;
  snapshotPath?: string | null;
  /** The snapshot restored at open, if any. */
  restored?: SnapshotInfo | null;
  lastSync?: SyncReport | null;
  lastSnapshot?: SnapshotInfo | null;
  memoryBytes: number;
}

/** Something the store handled on its own and reports (it never fails for derived data). */
export interface AnalyticsEvent {
  atMs: number;
  level: 'info' | 'warn';
  /** `snapshot_restored`, `snapshot_rejected`, `tracking_installed`, `tracking_failed`, `prune_failed`. */
  kind: string;
  message: string;
}

/** A result row of {@link AnalyticsStore.query}. Dates and timestamps arrive as ISO-8601 text, booleans as 0/1. */
export type AnalyticsRow = Record<string, SqlValue>;

/** Parameters shared by the reports. */
export interface ReportWindow {
  /** Look-back window in days from now. */
  days?: number;
  /** Only this user's messages. */
  userId?: string;
  /** Days, hours and weekdays are computed at this offset from UTC (default 0). */
  utcOffsetMinutes?: number;
  /** "Now" in epoch ms, for reproducible reports (default: the clock). */
  nowMs?: number;
}

/** One day of {@link AnalyticsReports.dailyMetrics}. */
export interface DailyMetricsRow {
  /** `YYYY-MM-DD`. */
  day: string;
  messageCount: number;
  avgSentiment: number | null;
  /** 95th percentile of response time (DuckDB `approx_quantile`, t-digest). */
  p95ResponseTimeMs: number | null;
}

/** One weekday x hour cell of {@link AnalyticsReports.activityHeatmap}. */
export interface HeatmapCell {
  /** 0 = Sunday ... 6 = Saturday. */
  weekday: number;
  hour: number;
  messages: number;
  conversations: number;
  avgSentiment: number | null;
}

/** Result of {@link AnalyticsReports.activityHeatmap}. */
export interface ActivityHeatmap {
  /** Non-empty cells. */
  cells: HeatmapCell[];
  /** `grid[weekday][hour]` = messages (7 x 24, zeros included). */
  grid: number[][];
}

/** One bucket of {@link AnalyticsReports.conversationLengths}. */
export interface ConversationLengthBucket {
  minMessages: number;
  maxMessages: number;
  conversations: number;
  avgMessages: number;
  /** Share of conversations with at most `maxMessages` messages. */
  cumulativeShare: number;
}

/** One user-week of {@link AnalyticsReports.engagementTrend}. */
export interface EngagementWeek {
  userId: string | null;
  /** Monday of the week, `YYYY-MM-DD`. */
  week: string;
  messages: number;
  userMessages: number;
  conversations: number;
  activeDays: number;
  avgSentiment: number | null;
  /** Moving average of `messages` over this and the 3 previous active weeks. */
  messages4wAvg: number;
  /** Difference from the user's previous active week (null for the first). */
  changeFromPreviousWeek: number | null;
  cumulativeMessages: number;
}

/** One day of {@link AnalyticsReports.sentimentTrend}. */
export interface SentimentDay {
  day: string;
  avgSentiment: number;
  scoredMessages: number;
  /** Message-weighted mean over the `windowDays` calendar days ending this day. */
  movingAvgSentiment: number;
}
