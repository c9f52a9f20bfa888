/**
 * `aico-data report [--out FILE]`: one self-contained HTML file of charts (inline SVG, nothing
 * fetched when it is viewed) over the analytics and the store sizes.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AicoDataError, invalidArgument } from '../../errors.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { out } from '../output.js';
import { renderAnalyticsReport } from '../report/analytics-report.js';
import { requireUser } from '../users.js';
import { collectStatus } from './status.js';

/** Adds the `report` subcommand to `program`. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML file with charts: daily messages, sentiment, p95 response time, weekday x hour heatmap, conversation lengths, store sizes')
    .option('--out <file>', 'where to write the HTML (mode 0600)', 'aico-data-report.html')
    .option('--days <n>', 'the window in days (1-3650)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) throw invalidArgument(`--days must be 1-3650, got ${JSON.stringify(v)}`);
      return n;
    })
    .option('--user <id>', "only this user's messages (list ids with `aico-data users`)")
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { out: string; days?: number; user?: string }>();
      const days = opts.days ?? 30;
      await withDataLayer(
        opts,
        async (data) => {
          if (opts.user !== undefined) await requireUser(data, opts.user);
          const a = data.analytics;
          if (!a) throw new AicoDataError('UNAVAILABLE', 'the analytics engine is off');
          await a.sync();
          const who = opts.user ? { userId: opts.user } : {};
          const status = await collectStatus(data);
          const html = renderAnalyticsReport({
            generatedAt: new Date(),
            days,
            ...who,
            daily: await a.reports.dailyMetrics({ days, ...who }),
            heatmap: await a.reports.activityHeatmap({ days, ...who }),
            lengths: await a.reports.conversationLengths({ days, ...who }),
            stores: status.files.map((f) => ({ store: f.store, files: f.files, bytes: f.bytes })),
            rows: status.sql.rows,
          });
          const file = resolve(opts.out);
          writeFileSync(file, html, { mode: 0o600 });
          out(`wrote ${file} (${Math.round(html.length / 1024)} KiB): open it in a browser; it loads nothing from the network`);
        },
        { vectors: false },
      );
    });
}
