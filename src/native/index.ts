/**
 * The generated Node-API binding (`index.js` / `index.d.ts` at the package root, written by
 * `napi build`), re-exported with its generated types. Only `src/stores/*` and the facade
 * import from here; everything above talks to the stores. `./preflight.js` runs first and turns
 * a missing or unloadable binary into one `UNAVAILABLE` error.
 */
import './preflight.js';
export * from '../../index.js';
export type { NativeCursor, NativeFolder, NativeSql, NativeStatement } from '../../index.js';
