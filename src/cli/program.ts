/**
 * The `aico-data` command line: global options, subcommands (one file each under
 * `commands/`), help text with the exit codes.
 */
import type { Command } from 'commander';
import { baseProgram } from './base-program.js';
import { registerAnalytics } from './commands/analytics.js';
import { registerBackup } from './commands/backup.js';
import { registerBench } from './commands/bench.js';
import { registerChangePassword } from './commands/change-password.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerForgetUser } from './commands/forget-user.js';
import { registerInit } from './commands/init.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPlugins } from './commands/plugins.js';
import { registerRecall } from './commands/recall.js';
import { registerReembed } from './commands/reembed.js';
import { registerRepair } from './commands/repair.js';
import { registerReport } from './commands/report.js';
import { registerRestore } from './commands/restore.js';
import { registerRotateKeys } from './commands/rotate-keys.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerUsers } from './commands/users.js';

/** The full program. */
export function createProgram(version: string): Command {
  const program = baseProgram(version);
  for (const register of [registerInit, registerStatus, registerUsers, registerMigrate, registerPlugins, registerAnalytics, registerReport, registerRecall, registerReembed, registerBackup, registerRestore, registerChangePassword, registerRotateKeys, registerForgetUser, registerSync, registerRepair, registerDoctor, registerDemo, registerBench]) {
    register(program);
  }
  return program;
}
