import { nativeAsync } from '../../errors.js';
import { openAnalytics, type NativeFolder, type NativeSql } from '../../native/index.js';
import { AnalyticsStore } from './store.js';
import type { AnalyticsOptions } from './types.js';

export { AnalyticsStore } from './store.js';
export { AnalyticsReports } from './reports.js';
export type * from './types.js';

/**
 * Opens the analytics store of a data folder over its libSQL store: restores the sealed
 * snapshot when there is one (a damaged or foreign one is reported through `onEvent` and
 * rebuilt), ready for {@link AnalyticsStore.sync}.
 */
export async function openAnalyticsStore(folder: NativeFolder, sql: NativeSql, options: AnalyticsOptions = {}): Promise<AnalyticsStore> {
  const { memoryLimitMb, threads, snapshots, snapshotOnClose, installTracking } = options;
  const n = await nativeAsync(() => openAnalytics(folder, sql, { memoryLimitMb, threads, snapshots, snapshotOnClose, installTracking }));
  return new AnalyticsStore(n, options);
}
