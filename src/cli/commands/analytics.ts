/**
 * `aico-data analytics <report|sql>`: a named report or one read-only SELECT over the DuckDB
 * analytics tables (`messages`, `conversations`, `memories`), after catching up with libSQL.
 */
import type { Command } from 'commander';
import { AicoDataError, invalidArgument } from '../../errors.js';
import type { AnalyticsStore } from '../../stores/analytics/index.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson, type Cell } from '../output.js';

interface Flags extends GlobalOptions {
  days?: number;
  weeks?: number;
  user?: string;
  json?: boolean;
}

type Rows = Array<Record<string, Cell>>;

/** The named reports (`analytics daily` is the seed's 30-day query). */
export const REPORTS: Record<string, { about: string; run: (a: AnalyticsStore, f: Flags) => Promise<unknown[]> }> = {
  daily: {
    about: "per day: messages, mean sentiment, p95 response time (the seed's query; --days, default 30)",
    run: (a, f) => a.reports.dailyMetrics({ days: f.days ?? 30, ...(f.user ? { userId: f.user } : {}) }),
  },
  heatmap: {
    about: 'messages per weekday x hour (--days, default 30)',
    run: async (a, f) => (await a.reports.activityHeatmap({ days: f.days ?? 30, ...(f.user ? { userId: f.user } : {}) })).cells,
  },
  lengths: {
    about: 'conversations by number of messages (power-of-two buckets)',
    run: (a, f) => a.reports.conversationLengths({ ...(f.days ? { days: f.days } : {}), ...(f.user ? { userId: f.user } : {}) }),
  },
  engagement: {
    about: 'per user and week: activity, 4-week moving average, change, running total (--weeks, default 12)',
    run: (a, f) => a.reports.engagementTrend({ weeks: f.weeks ?? 12, ...(f.user ? { userId: f.user } : {}) }),
  },
  sentiment: {
    about: 'daily mean sentiment with a 7-day moving average (--days, default 30)',
    run: (a, f) => a.reports.sentimentTrend({ days: f.days ?? 30, ...(f.user ? { userId: f.user } : {}) }),
  },
};

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw invalidArgument(`${name} must be a whole number >= 1, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** Adds the `analytics` subcommand to `program`. */
export function registerAnalytics(program: Command): void {
  program
    .command('analytics')
    .description(`run a report (${Object.keys(REPORTS).join(', ')}) or one SELECT over the DuckDB analytics tables`)
    .argument('<report|sql>', 'a report name, or a SELECT statement over messages / conversations / memories')
    .option('--days <n>', 'look-back window in days', positiveInt('--days'))
    .option('--weeks <n>', 'look-back window in weeks (engagement)', positiveInt('--weeks'))
    .option('--user <id>', "only this user's messages")
    .option('--json', 'print rows as JSON')
    .addHelpText('after', `\nReports:\n${Object.entries(REPORTS).map(([n, r]) => `  ${n.padEnd(11)} ${r.about}`).join('\n')}`)
    .action(async (what: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<Flags>();
      const report = REPORTS[what];
      if (!report && !/^\s*(select|with|from)\b/i.test(what)) {
        throw new AicoDataError('NOT_FOUND', `unknown report ${JSON.stringify(what)}`, {
          fix: `use one of ${Object.keys(REPORTS).join(', ')}, or pass a SELECT statement in quotes`,
        });
      }
      await withDataLayer(opts, async (data) => {
        const analytics = data.analytics;
        if (!analytics) throw new AicoDataError('UNAVAILABLE', 'the analytics engine is off');
        await analytics.sync();
        const rows = (report ? await report.run(analytics, opts) : await analytics.query(what)) as Rows;
        if (opts.json) return out(toJson(rows));
        out(formatTable(rows));
        process.stderr.write(`${rows.length} row(s)\n`);
      });
    });
}
