/**
 * One exchange with a peer over any transport: send what it lacks, then import what arrived.
 * Export and import are passed in, so a round runs exactly what the facade's own methods do.
 */
import { AicoDataError, invalidArgument } from '../errors.js';
import type { ExportOptions } from './export-changes.js';
import type { ImportResult } from './import-changes.js';
import type { SyncTransport } from './transports/types.js';

/** A peer reachable over a transport. */
export interface SyncPeer {
  readonly deviceId: string;
  readonly transport: SyncTransport;
}

/** What one {@link SyncService.syncWith} round did. */
export interface SyncRound {
  readonly sentBytes: number;
  readonly received: number;
  readonly results: ImportResult[];
  readonly errors: AicoDataError[];
}

/** Runs one round; typed failures of single incoming changesets are collected, not thrown. */
export async function syncRound(
  peer: SyncPeer,
  options: ExportOptions,
  exportFor: (deviceId: string, options: ExportOptions) => Promise<Buffer>,
  importOne: (bytes: Uint8Array) => Promise<ImportResult>,
): Promise<SyncRound> {
  if (!peer || typeof peer !== 'object' || !peer.transport) throw invalidArgument('peer must be { deviceId, transport }');
  const bytes = await exportFor(peer.deviceId, options);
  await peer.transport.send(peer.deviceId, bytes);
  const incoming = await peer.transport.receive();
  const results: ImportResult[] = [];
  const errors: AicoDataError[] = [];
  for (const b of incoming) {
    try {
      results.push(await importOne(b));
    } catch (e) {
      if (!(e instanceof AicoDataError)) throw e;
      errors.push(e);
    }
  }
  return { sentBytes: bytes.length, received: incoming.length, results, errors };
}
