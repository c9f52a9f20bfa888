/**
 * A Chroma server left behind by a data layer process that died (SIGKILL, power cut of the
 * parent only): its wrapper normally exits when the IPC channel closes, but until it has, it
 * still holds the persist folder. The manager records each server it starts in a pid file
 * beside the folder; the next start stops a server whose owner is gone before launching its own.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { processAlive } from '../../../util/process-alive.js';

/** What the pid file holds. */
interface PidRecord {
  pid: number;
  ownerPid: number;
  port: number;
  persistDir: string;
}

/** The pid file of a persist folder (`<data folder>/chroma.pid`). */
export function pidFileOf(persistDir: string): string {
  return `${persistDir.replace(/[\\/]+$/, '')}.pid`;
}


/** On Linux, checks that `pid` is still the server of `persistDir` (pids get reused). */
function isServerOf(pid: number, persistDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(persistDir);
  } catch {
    return process.platform !== 'linux'; // no /proc: trust the record
  }
}

function read(persistDir: string): PidRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(pidFileOf(persistDir), 'utf8')) as PidRecord;
    return Number.isInteger(r.pid) && Number.isInteger(r.ownerPid) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Records the server just started for `persistDir` by this process. */
export function recordServer(persistDir: string, pid: number, port: number): void {
  try {
    writeFileSync(pidFileOf(persistDir), JSON.stringify({ pid, ownerPid: process.pid, port, persistDir } satisfies PidRecord), { mode: 0o600 });
  } catch {
    // best effort: without the record a stale server is only not reaped early
  }
}

/** Forgets the record if it is this process's server `pid`. */
export function forgetServer(persistDir: string, pid: number | undefined): void {
  const r = read(persistDir);
  if (r && r.pid === pid && r.ownerPid === process.pid) rmSync(pidFileOf(persistDir), { force: true });
}

/**
 * Stops the server recorded for `persistDir` when the process that started it is gone (SIGTERM,
 * then SIGKILL after `graceMs`) and waits for it to exit. Returns its pid, or undefined when
 * there was nothing to stop. A server whose owner still runs (another open data layer) is left alone.
 */
export async function reapStaleServer(persistDir: string, graceMs = 3000): Promise<number | undefined> {
  const r = read(persistDir);
  if (!r) return undefined;
  if (r.ownerPid !== process.pid && processAlive(r.ownerPid)) return undefined;
  // Our own earlier server (a restart): the manager stops those itself.
  if (r.ownerPid === process.pid) return undefined;
  let reaped: number | undefined;
  if (processAlive(r.pid) && isServerOf(r.pid, persistDir)) {
    reaped = r.pid;
    try {
      process.kill(r.pid, 'SIGTERM');
    } catch {
      /* exited meanwhile */
    }
    const deadline = Date.now() + graceMs;
    while (processAlive(r.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    if (processAlive(r.pid)) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
      while (processAlive(r.pid)) await new Promise((res) => setTimeout(res, 10));
    }
  }
  rmSync(pidFileOf(persistDir), { force: true });
  return reaped;
}
