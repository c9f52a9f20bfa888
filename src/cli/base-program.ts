/**
 * The program without subcommands: name, version, global options, help with the exit codes.
 * Loads nothing native, so `doctor` can run on it when the addon is missing.
 */
import { Command, Option } from 'commander';
import { EXIT_HELP } from './exit-codes.js';
import { DIR_ENV } from './folder-files.js';
import { NEW_PASSWORD_ENV, PASSWORD_ENV } from './password.js';

/** The base program: global options and help, no subcommands. */
export function baseProgram(version: string): Command {
  return new Command('aico-data')
    .exitOverride() // inherited by subcommands: errors come back to main() as CommanderError
    .description('the local-first, encrypted data layer of an AI companion: manage a data folder')
    .version(version, '-V, --version')
    .addOption(new Option('-d, --dir <path>', `data folder (default: $${DIR_ENV})`))
    .addOption(new Option('--password-stdin', `read the password(s) from stdin, one per line (default: $${PASSWORD_ENV}, else a prompt without echo)`))
    .addOption(
      new Option('--plugin <module>', 'import a module that registers plugin schemas (defineSchema) first; repeatable').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    // Usage errors look like every other error: the code, then the fix.
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'error INVALID_ARGUMENT: ')) })
    .showHelpAfterError('fix: see `aico-data <command> --help` for usage')
    .addHelpText(
      'after',
      `\nPasswords never go on the command line: $${PASSWORD_ENV} (and $${NEW_PASSWORD_ENV} for change-password), --password-stdin, or a prompt.\n\n${EXIT_HELP}\n`,
    );
}

