import { spawn } from 'node:child_process';
import { describeSource, discoverServers, type DiscoveryNote, type ServerDiscoveryOptions } from './discovery.js';
import { probeIsolation } from './isolation.js';
import { heartbeat } from './manager.js';

/** One line of `doctor` output. */
export interface VectorDoctorLine {
  source: DiscoveryNote['source'];
  subject: string;
  /** `usable`: would work; `unusable`: present but fails (reason in `detail`); `missing` / `skipped` as discovered. */
  status: 'usable' | 'unusable' | 'missing' | 'skipped';
  detail: string;
}

/** What `doctor` found, in discovery order, and which source the data layer would use. */
export interface VectorDoctorReport {
  lines: VectorDoctorLine[];
  /** The first usable source, or undefined when none is (then vectors are `UNAVAILABLE`). */
  chosen?: string;
  /**
   * How a managed server would be shut off from other local processes: `namespace` (its port
   * in a private network namespace, reached through an owner-only socket and a token), or
   * `none: <reason>` (the managed server is then refused unless `insecureSharedLoopback`).
   */
  isolation?: string;
}

/**
 * Diagnoses where a Chroma server would come from, without starting one: a configured URL is
 * asked for its heartbeat; each binding is loaded in a throw-away child process (that is the only
 * way to learn whether its native code runs on this machine, e.g. its glibc); an executable is
 * run with `--help`.
 */
export async function diagnoseVectorServer(options: ServerDiscoveryOptions = {}): Promise<VectorDoctorReport> {
  const { candidates, notes } = discoverServers(options);
  const lines: VectorDoctorLine[] = [];
  let chosen: string | undefined;
  let i = 0;
  for (const note of notes) {
    if (note.status !== 'found') {
      lines.push({ ...note, status: note.status });
      continue;
    }
    const candidate = candidates[i++]!;
    let probe: { ok: boolean; detail: string };
    if (candidate.kind === 'url') {
      probe = (await heartbeat(candidate.url.replace(/\/+$/, ''), 5000))
        ? { ok: true, detail: 'answers its heartbeat' }
        : { ok: false, detail: 'does not answer /api/v2/heartbeat' };
    } else if (candidate.kind === 'binding') {
      probe = await runProbe(process.execPath, ['-e', 'require(process.argv[1])', candidate.modulePath]);
      if (probe.ok) probe.detail = `loads (${candidate.modulePath})`;
    } else {
      probe = await runProbe(candidate.path, ['--help']);
      if (probe.ok) probe.detail = `runs (${candidate.path})`;
    }
    lines.push({ source: note.source, subject: note.subject, status: probe.ok ? 'usable' : 'unusable', detail: probe.ok ? probe.detail : `${note.detail}: ${probe.detail}` });
    if (probe.ok && chosen === undefined) chosen = describeSource(candidate);
  }
  const iso = probeIsolation();
  const isolation = iso.kind === 'namespace' ? 'namespace' : `none: ${iso.reason}`;
  return chosen === undefined ? { lines, isolation } : { lines, chosen, isolation };
}

/** Formats a report for a terminal. */
export function formatDoctorReport(report: VectorDoctorReport): string {
  const mark = { usable: 'ok  ', unusable: 'FAIL', missing: '--  ', skipped: 'skip' } as const;
  const out = report.lines.map((l) => `${mark[l.status]} ${l.source.padEnd(10)} ${l.subject}: ${l.detail}`);
  if (report.isolation !== undefined) {
    out.push(
      report.isolation === 'namespace'
        ? 'ok   isolation  private network namespace: only this process (with its token) reaches the managed server'
        : `FAIL isolation  ${report.isolation}: a managed server is refused (UNAVAILABLE) unless vectors.server.insecureSharedLoopback is set`,
    );
  }
  out.push(report.chosen ? `=> vectors will use ${report.chosen}` : '=> no usable Chroma server: vector operations fail with UNAVAILABLE');
  return out.join('\n');
}

function runProbe(cmd: string, args: string[]): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    let err = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, windowsHide: true });
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-2000)));
    child.on('error', (e) => resolve({ ok: false, detail: e.message }));
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve({ ok: true, detail: '' });
      const reason = err.split('\n').map((l) => l.trim()).filter(Boolean).find((l) => /error|GLIBC|not found|cannot/i.test(l)) ?? err.trim().split('\n').pop() ?? '';
      resolve({ ok: false, detail: `fails to load: ${reason || `exit ${code ?? signal}`}`.slice(0, 400) });
    });
  });
}
