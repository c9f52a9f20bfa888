/**
 * zeromq's native addon, loaded on first use: `import 'aico-data'` must not load a native
 * library that only the ZeroMQ bus and the ZeroMQ sync transport need (issue 17: the eager
 * import cost every user its load time and made the package fail to import where zeromq's
 * prebuilt binary does not load).
 */
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';

let loaded: typeof Zmq | undefined;

/** The zeromq module (required on the first call). */
export function zeromq(): typeof Zmq {
  return (loaded ??= createRequire(import.meta.url)('zeromq') as typeof Zmq);
}
