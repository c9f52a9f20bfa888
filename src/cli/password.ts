/**
 * Where the command gets passwords: `--password-stdin` (one line per password, for scripts),
 * an environment variable, or a terminal prompt that does not echo. Never from an argument:
 * arguments show up in `ps` and shell history.
 */
import { invalidArgument } from '../errors.js';
import { Interrupted } from './failure.js';

/** The environment variable holding the master password. */
export const PASSWORD_ENV = 'AICO_DATA_PASSWORD';
/** The environment variable holding the new password for `change-password`. */
export const NEW_PASSWORD_ENV = 'AICO_DATA_NEW_PASSWORD';

/** How one password is asked for. */
export interface PasswordRequest {
  /** Prompt shown on a terminal. */
  prompt: string;
  /** Environment variable to take it from. */
  env: string;
  /** Ask twice on a terminal (new passwords). */
  confirm?: boolean;
}

let stdinLines: string[] | undefined;

/** All of stdin, split into lines (read once; `--password-stdin` takes one line per password). */
async function readStdinLines(): Promise<string[]> {
  if (stdinLines) return stdinLines;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  stdinLines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  return stdinLines;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Interrupted());
        if (ch === '\u0004') return done(); // Ctrl-D ends the input as Enter would
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * One password, from the first source that has it: `--password-stdin` (the next line),
 * the environment variable, or a hidden terminal prompt. Empty passwords are refused.
 */
export async function readPassword(req: PasswordRequest, fromStdin: boolean): Promise<string> {
  let value: string | undefined;
  if (fromStdin) {
    const lines = await readStdinLines();
    value = lines.shift();
    if (value === undefined || value === '') throw invalidArgument(`--password-stdin: no line for "${req.prompt.replace(/:\s*$/, '')}" on stdin`);
  } else if (process.env[req.env]) {
    value = process.env[req.env]!;
  } else if (process.stdin.isTTY) {
    value = await promptHidden(req.prompt);
    if (req.confirm && value !== '') {
      const again = await promptHidden('Repeat it: ');
      if (again !== value) throw invalidArgument('the two passwords differ');
    }
  } else {
    throw invalidArgument(`no password: set ${req.env}, pipe it with --password-stdin, or run in a terminal`);
  }
  if (value === '') throw invalidArgument('the password must not be empty');
  return value;
}
