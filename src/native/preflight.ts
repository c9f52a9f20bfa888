/**
 * Finds and loads this platform's native binary before the generated loader (`index.js`) runs,
 * so that a missing or unloadable binary is one `UNAVAILABLE` error naming the platform and what
 * to install, instead of the loader's generic "Cannot find native binding".
 *
 * Order, as the generated loader's: a local build at the package root
 * (`aico-data.<platform>.node`, from `npm run build:native`), then the platform package
 * (`aico-data-<platform>`, an optional dependency of the published root package). The loader's
 * own `require` of the same file is then a module-cache hit.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AicoDataError } from '../errors.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(PACKAGE_ROOT, 'package.json'));

/** napi-rs platform suffix of this process: `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`. */
export function platformSuffix(): string {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    return `linux-${arch}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function packageVersion(): string {
  try {
    return (require('./package.json') as { version: string }).version;
  } catch {
    return 'latest';
  }
}

function preflight(): void {
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) return; // an explicit override: the loader handles it
  const suffix = platformSuffix();
  const local = join(PACKAGE_ROOT, `aico-data.${suffix}.node`);
  const pkg = `aico-data-${suffix}`;
  const version = packageVersion();
  const install = `npm install ${pkg}@${version}`;
  const source = 'or build from source in a clone: `npm run build:native` (Rust >= 1.88, cmake, libclang; zig on Linux)';
  let candidate: string;
  if (existsSync(local)) candidate = local;
  else {
    try {
      candidate = require.resolve(pkg);
    } catch {
      throw new AicoDataError('UNAVAILABLE', `no aico-data native binary for ${suffix} (Node ${process.versions.node}): neither ${local} nor the package ${pkg} is installed`, {
        platform: suffix,
        fix: `run \`${install}\` (npm skips optional dependencies with --omit=optional or a foreign lockfile), ${source}`,
      });
    }
  }
  try {
    require(candidate);
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    throw new AicoDataError('UNAVAILABLE', `the aico-data native binary for ${suffix} does not load (${candidate}): ${reason}`, {
      platform: suffix,
      fix: /GLIBC|GLIBCXX|libstdc\+\+/.test(reason)
        ? `this system's C library is older than the binary needs: use the published ${pkg} (built for glibc 2.17+), ${source}`
        : `reinstall it (\`${install}\`), ${source}`,
    }, { cause: e });
  }
}

preflight();
