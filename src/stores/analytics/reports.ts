import { invalidArgument, nativeAsync } from '../../errors.js';
import type { NativeAnalytics } from '../../native/index.js';
import type {
  ActivityHeatmap,
  ConversationLengthBucket,
  DailyMetricsRow,
  EngagementWeek,
  HeatmapCell,
  ReportWindow,
  SentimentDay,
} from './types.js';

type Raw = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

function positiveInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw invalidArgument(`${what} must be a positive integer`);
  return v;
}

function nativeOptions(o: (ReportWindow & { weeks?: number; role?: string; windowDays?: number }) | undefined) {
  if (o === undefined) return undefined;
  if (o === null || typeof o !== 'object') throw invalidArgument('report options must be an object');
  if (o.userId !== undefined && typeof o.userId !== 'string') throw invalidArgument('userId must be a string');
  if (o.role !== undefined && typeof o.role !== 'string') throw invalidArgument('role must be a string');
  if (o.utcOffsetMinutes !== undefined && !Number.isInteger(o.utcOffsetMinutes)) throw invalidArgument('utcOffsetMinutes must be an integer');
  if (o.nowMs !== undefined && !Number.isFinite(o.nowMs)) throw invalidArgument('nowMs must be a number');
  return {
    days: positiveInt(o.days, 'days'),
    weeks: positiveInt(o.weeks, 'weeks'),
    windowDays: positiveInt(o.windowDays, 'windowDays'),
    userId: o.userId,
    role: o.role,
    utcOffsetMinutes: o.utcOffsetMinutes,
    nowMs: o.nowMs,
  };
}

/**
 * The named analytical reports. Each runs one prepared DuckDB statement over the synced
 * tables; call {@link AnalyticsStore.sync} first to include the latest writes.
 */
export class AnalyticsReports {
  readonly #n: NativeAnalytics;
  readonly #ready: () => void | Promise<void>;

  /** @internal */
  constructor(n: NativeAnalytics, ready: () => void | Promise<void>) {
    this.#n = n;
    this.#ready = ready;
  }

  async #run(name: string, options: Parameters<typeof nativeOptions>[0]): Promise<Raw[]> {
    const opts = nativeOptions(options);
    await this.#ready();
    return (await nativeAsync(() => this.#n.reportAsync(name, opts))) as Raw[];
  }

  /**
   * The seed's query: per day (newest first), message count, average sentiment and the 95th
   * percentile of response time (`approx_quantile`) over the last `days` days (default 30).
   */
  async dailyMetrics(options?: ReportWindow): Promise<DailyMetricsRow[]> {
    return (await this.#run('dailyMetrics', options)).map((r) => ({
      day: r.day as string,
      messageCount: num(r.message_count),
      avgSentiment: numOrNull(r.avg_sentiment),
      p95ResponseTimeMs: numOrNull(r.p95_response_time_ms),
    }));
  }

  /** When the user talks: messages per weekday and hour (local time via `utcOffsetMinutes`), last `days` days (default 30). */
  async activityHeatmap(options?: ReportWindow & { role?: string }): Promise<ActivityHeatmap> {
    const cells: HeatmapCell[] = (await this.#run('activityHeatmap', options)).map((r) => ({
      weekday: num(r.weekday),
      hour: num(r.hour),
      messages: num(r.messages),
      conversations: num(r.conversations),
      avgSentiment: numOrNull(r.avg_sentiment),
    }));
    const grid = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
    for (const c of cells) grid[c.weekday]![c.hour] = c.messages;
    return { cells, grid };
  }

  /** Conversations by number of messages, in power-of-two buckets (1, 2-3, 4-7, ...). All time unless `days` is given. */
  async conversationLengths(options?: Omit<ReportWindow, 'utcOffsetMinutes'>): Promise<ConversationLengthBucket[]> {
    return (await this.#run('conversationLengths', options)).map((r) => ({
      minMessages: num(r.min_messages),
      maxMessages: num(r.max_messages),
      conversations: num(r.conversations),
      avgMessages: num(r.avg_messages),
      cumulativeShare: num(r.cumulative_share),
    }));
  }

  /** Per user and week (last `weeks` weeks, default 12): activity with window functions (4-week moving average, change, running total). */
  async engagementTrend(options?: Omit<ReportWindow, 'days'> & { weeks?: number }): Promise<EngagementWeek[]> {
    return (await this.#run('engagementTrend', options)).map((r) => ({
      userId: (r.user_id as string | null) ?? null,
      week: r.week as string,
      messages: num(r.messages),
      userMessages: num(r.user_messages),
      conversations: num(r.conversations),
      activeDays: num(r.active_days),
      avgSentiment: numOrNull(r.avg_sentiment),
      messages4wAvg: num(r.messages_4w_avg),
      changeFromPreviousWeek: numOrNull(r.change_from_previous_week),
      cumulativeMessages: num(r.cumulative_messages),
    }));
  }

  /** Daily average sentiment with a `windowDays` (default 7) moving average, last `days` days (default 30). */
  async sentimentTrend(options?: ReportWindow & { windowDays?: number }): Promise<SentimentDay[]> {
    return (await this.#run('sentimentTrend', options)).map((r) => ({
      day: r.day as string,
      avgSentiment: num(r.avg_sentiment),
      scoredMessages: num(r.scored_messages),
      movingAvgSentiment: num(r.moving_avg_sentiment),
    }));
  }
}
