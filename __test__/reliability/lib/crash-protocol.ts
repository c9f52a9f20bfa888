/** Names shared by crash.test.ts and its child, so both sides agree without passing them around. */

/** The plugin a migration trial activates (unique per trial, so every such trial really migrates). */
export function pluginFor(trial: number): string {
  return `crash${trial}`;
}

/** The i-th password a password-change trial moves to. */
export function passwordFor(trial: number, i: number): string {
  return `crash password ${trial}.${i}`;
}
