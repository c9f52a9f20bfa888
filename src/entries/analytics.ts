/**
 * `aico-data/analytics`: DuckDB analytics over the primary store: the store and its reports.
 * Also re-exported by the package root.
 */
export { AnalyticsStore, AnalyticsReports } from '../stores/analytics/index.js';
export type * from '../stores/analytics/types.js';
