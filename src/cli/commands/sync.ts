/**
 * `aico-data sync ...`: device sync from the command line. Pairing is five steps across two
 * devices (offer -> pair -> complete -> pair --code -> complete); changesets travel as files (`export` /
 * `import`, or `exchange` through a shared folder such as a USB stick).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DataLayer } from '../../data-layer.js';
import { AicoDataError, invalidArgument } from '../../errors.js';
import { FileTransport, type DeviceSyncPolicy, type SyncMode } from '../../sync/index.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatTable, out, toJson } from '../output.js';

type Opts = GlobalOptions & { json?: boolean };

function run(cmd: Command, fn: (data: DataLayer, opts: Opts & Record<string, unknown>) => Promise<void>): Promise<void> {
  const opts = cmd.optsWithGlobals<Opts & Record<string, unknown>>();
  // Sync needs only the SQL store: no analytics engine, no Chroma server.
  return withDataLayer(opts, (data) => fn(data, opts), { analytics: false, vectors: false });
}

/** Adds the `sync` subcommands to `program`. */
export function registerSync(program: Command): void {
  const sync = program.command('sync').description("sync with the user's other devices (pairing, changesets, conflicts)");

  sync
    .command('enable')
    .description('create this device identity (idempotent)')
    .option('--name <name>', 'how other devices see this one', 'this device')
    .option('--type <type>', 'desktop, laptop, phone, ...', 'other')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const me = await data.sync.enable({ name: String(o.name), type: String(o.type) });
        out(o.json ? toJson({ id: me.id, name: me.name, type: me.type }) : `device ${me.id} (${me.name})`);
      }),
    );

  sync
    .command('status')
    .description('peers, pending changes, quarantine, conflicts, policies')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const s = await data.sync.status();
        if (o.json) return out(toJson(s));
        out(`sync ${s.enabled ? `enabled, device ${s.deviceId}` : 'not enabled (run `aico-data sync enable`)'}`);
        out(`changes ${s.changes}, quarantined ${s.quarantined}, waiting rows ${s.pendingRows}, open conflicts ${s.openConflicts}`);
        if (s.peers.length) out(formatTable(s.peers.map((p) => ({ device: p.deviceId, name: p.name, pending: p.pending, due: p.due, 'last import': p.lastImportAt }))));
      }),
    );

  sync
    .command('devices')
    .description('the device registry')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const devices = (await data.sync.devices()).map((d) => ({ id: d.id, name: d.name, type: d.type, trust: d.trustLevel, self: d.self, revoked: d.revokedAt, 'last seen': d.lastSeenAt }));
        out(o.json ? toJson(devices) : formatTable(devices));
      }),
    );

  // Pairing (src/sync/README.md): offer (new) -> pair (trusted) -> complete (new: shows the code)
  // -> pair --code (trusted: the code typed in) -> complete (new). Nobody can choose the code.
  sync
    .command('offer')
    .description('step 1 on the new device: print a pairing offer to carry to a trusted device (valid 10 minutes)')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const offer = await data.sync.createPairingOffer();
        out(o.json ? toJson(offer) : `carry this offer to a trusted device and run \`aico-data sync pair <offer>\` there (expires ${offer.expiresAt}):\n${offer.payload}`);
      }),
    );

  sync
    .command('pair')
    .description('on a trusted device: answer an offer (step 2), or check a reveal with the code the new device shows (step 4)')
    .argument('<payload>', 'the AICO-PAIR2:... offer or the AICO-PAIRR2:... reveal')
    .option('--code <code>', 'with a reveal: the 6-digit code shown on the new device')
    .option('--json', 'print JSON')
    .action(async (payload: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const r = await data.sync.pair(payload, o.code === undefined ? undefined : String(o.code));
        if (o.json) return out(toJson({ step: r.step, payload: r.payload, code: r.code, device: r.device?.id }));
        if (r.step === 'answer') out(`answer for ${r.device?.id} (${r.device?.name}); carry it back and run \`aico-data sync complete <answer>\` there:\n${r.payload}`);
        else out(`paired ${r.device?.id} (${r.device?.name}); code ${r.code}; carry this confirmation back (\`aico-data sync complete\`):\n${r.payload}`);
      }),
    );

  sync
    .command('complete')
    .description('on the new device: take the answer (step 3: shows the code to type on the trusted device), then the confirmation (step 5)')
    .argument('<payload>', 'the AICO-PAIRA2:... answer or the AICO-PAIRC2:... confirmation')
    .option('--json', 'print JSON')
    .action(async (payload: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const r = await data.sync.completePairing(payload);
        if (o.json) return out(toJson({ step: r.step, payload: r.payload, code: r.code, device: r.device?.id }));
        if (r.step === 'reveal') out(`code ${r.code}: type it on ${r.device?.name} with \`aico-data sync pair <reveal> --code ${r.code}\`:\n${r.payload}`);
        else out(`paired with ${r.device?.id} (${r.device?.name}); code ${r.code}`);
      }),
    );

  sync
    .command('revoke')
    .description('revoke a device and rotate the sync key (needs --yes)')
    .argument('<deviceId>')
    .option('--yes', 'confirm')
    .action(async (deviceId: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        if (!o.yes) throw invalidArgument(`revoking ${deviceId} cannot be undone: add --yes to confirm`);
        await data.sync.revoke(deviceId);
        out(`revoked ${deviceId}; the sync key was rotated`);
      }),
    );

  sync
    .command('export')
    .description('write a changeset for a device to a file')
    .argument('<deviceId>')
    .requiredOption('--out <file>', 'where to write the sealed changeset')
    .option('--on-demand', 'include tables whose policy is on_demand')
    .action(async (deviceId: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const bytes = await data.sync.exportChanges(deviceId, undefined, { onDemand: o.onDemand === true });
        writeFileSync(String(o.out), bytes, { mode: 0o600 });
        out(`wrote ${bytes.length} bytes to ${String(o.out)}`);
      }),
    );

  sync
    .command('import')
    .description('apply changeset files (verified, decrypted; applying twice changes nothing)')
    .argument('<files...>')
    .option('--json', 'print JSON')
    .action(async (files: string[], _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const results = [];
        for (const f of files) {
          let bytes: Buffer;
          try {
            bytes = readFileSync(f);
          } catch (e) {
            throw new AicoDataError('NOT_FOUND', `cannot read ${f}: ${(e as Error).message}`);
          }
          results.push({ file: f, ...(await data.sync.importChanges(bytes)) });
        }
        out(o.json ? toJson(results) : formatTable(results.map((r) => ({ file: r.file, status: r.status, from: r.from, applied: r.applied, duplicates: r.duplicates, conflicts: r.conflicts }))));
      }),
    );

  sync
    .command('exchange')
    .description('one round with a device through a shared folder (USB stick): send what it lacks, apply what it left')
    .argument('<deviceId>')
    .requiredOption('--folder <dir>', 'the shared folder')
    .option('--json', 'print JSON')
    .action(async (deviceId: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const r = await data.sync.syncWith({ deviceId, transport: new FileTransport(String(o.folder), await data.sync.deviceId()) });
        const summary = { sentBytes: r.sentBytes, received: r.received, applied: r.results.reduce((n, x) => n + x.applied, 0), errors: r.errors.map((e) => `${e.code}: ${e.message}`) };
        out(o.json ? toJson(summary) : `sent ${summary.sentBytes} bytes; received ${summary.received} changesets, ${summary.applied} changes applied${summary.errors.length ? `; errors: ${summary.errors.join('; ')}` : ''}`);
      }),
    );

  sync
    .command('policy')
    .description('show table policies, or set one: immediate, batch, on_demand, never')
    .argument('[table]')
    .argument('[mode]')
    .option('--json', 'print JSON')
    .action(async (table: string | undefined, mode: string | undefined, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        if (table !== undefined) {
          if (mode === undefined) throw invalidArgument('give a mode: immediate, batch, on_demand or never');
          await data.sync.setPolicy(table, mode as SyncMode);
        }
        const p = await data.sync.policies();
        out(o.json ? toJson(p) : formatTable(Object.entries(p).map(([t, m]) => ({ table: t, mode: m }))));
      }),
    );

  sync
    .command('device-policy')
    .description("what a device receives: full, selective (critical tables only) or none")
    .argument('<deviceId>')
    .argument('<policy>')
    .action(async (deviceId: string, policy: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data) => {
        await data.sync.setDevicePolicy(deviceId, policy as DeviceSyncPolicy);
        out(`device ${deviceId} now receives: ${policy}`);
      }),
    );

  sync
    .command('conflicts')
    .description('the conflict ledger (open entries)')
    .option('--all', 'resolved entries too')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const list = await data.sync.conflicts({ status: o.all ? 'all' : 'open' });
        if (o.json) return out(toJson(list));
        out(formatTable(list.map((c) => ({ id: c.id, table: c.table, row: c.rowId, a: String(c.a.row?.content ?? '(deleted)'), b: String(c.b.row?.content ?? '(deleted)'), status: c.status }))));
      }),
    );

  sync
    .command('resolve')
    .description('resolve a conflict: keep version a, b, or both')
    .argument('<conflictId>')
    .requiredOption('--keep <which>', 'a, b or both')
    .action(async (conflictId: string, _o: unknown, cmd: Command) =>
      run(cmd, async (data, o) => {
        const keep = String(o.keep);
        if (keep !== 'a' && keep !== 'b' && keep !== 'both') throw invalidArgument('--keep must be a, b or both');
        const r = await data.sync.resolve(conflictId, { keep });
        out(`resolved ${conflictId}${r.addedRowId ? `; the other version is now row ${r.addedRowId}` : ''}`);
      }),
    );
}
