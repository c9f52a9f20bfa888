/** Spawning the suite's TypeScript child processes (through tsx) and reading their line protocol. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A running child whose complete stdout lines are collected as they arrive. */
export interface Child {
  readonly proc: ChildProcess;
  /** Complete lines so far (a line cut by a kill is not included). */
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the exit code / signal once the process is gone (and reaped). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line matching `test`, or undefined if the child exits first or `ms` pass. */
  waitForLine(test: (line: string) => boolean, ms?: number): Promise<string | undefined>;
}

/** Starts `node --import tsx <fixture> ...args` in the project root. */
export function startChild(fixture: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const waiters: Array<{ test: (l: string) => boolean; resolve: (l: string | undefined) => void }> = [];
  let partial = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8192);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.resolve(undefined);
      resolve({ code, signal });
    });
  });
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    waitForLine(test, ms = 60_000) {
      const found = lines.find(test);
      if (found !== undefined) return Promise.resolve(found);
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const w = { test, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            resolve(undefined);
          }
        }, ms).unref();
      });
    },
  };
}

export { alive, waitFor, sleep } from '../../helpers/processes.js';
