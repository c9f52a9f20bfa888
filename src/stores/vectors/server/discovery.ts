import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

/** Where a Chroma server comes from. */
export type ServerSource =
  | { kind: 'url'; url: string }
  | { kind: 'binding'; packageName: string; version: string; modulePath: string; resolvedFrom: string }
  | { kind: 'executable'; path: string };

/** How the data layer finds a Chroma server. */
export interface ServerDiscoveryOptions {
  /** Use this Chroma server (yours) instead of managing one. Nothing else is tried. */
  url?: string;
  /** Try the server inside the `chromadb-js-bindings-*` npm packages (default true). */
  bindings?: boolean;
  /** A `chroma` executable: a path, a name looked up on PATH (default `'chroma'`), or false. */
  executable?: string | false;
  /** @internal PATH to search (tests). */
  searchPath?: string;
}

/** One line of discovery: what was looked at and what came of it. */
export interface DiscoveryNote {
  source: 'url' | 'binding' | 'executable';
  /** What was looked for: a URL, an npm package name, an executable name. */
  subject: string;
  /** `found`: usable candidate; `missing`: not installed; `skipped`: disabled or not applicable. */
  status: 'found' | 'missing' | 'skipped';
  detail: string;
}

/** The npm packages that carry a Chroma server for this platform, best first. */
export function bindingPackagesFor(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (platform === 'linux' && arch === 'x64') return isMusl() ? [] : ['chromadb-js-bindings-linux-x64-gnu'];
  if (platform === 'linux' && arch === 'arm64') return isMusl() ? [] : ['chromadb-js-bindings-linux-arm64-gnu'];
  if (platform === 'darwin' && arch === 'arm64') return ['chromadb-js-bindings-darwin-arm64'];
  if (platform === 'darwin' && arch === 'x64') return ['chromadb-js-bindings-darwin-x64'];
  if (platform === 'win32' && arch === 'x64') return ['chromadb-js-bindings-win32-x64-msvc'];
  return [];
}

function isMusl(): boolean {
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report !== undefined && report.header?.glibcVersionRuntime === undefined;
}

/**
 * The server candidates in the order the manager tries them:
 * 1. `url` when configured (and then nothing else);
 * 2. the binding packages, resolved first from aico-data (which pins one known to load on
 *    older glibc), then from the `chromadb` client (whose own, newer binding may need a newer glibc);
 * 3. a `chroma` executable on the PATH (e.g. from `pip install chromadb`).
 * Whether a binding actually loads is only known by starting it (a child process tries).
 */
export function discoverServers(options: ServerDiscoveryOptions = {}): { candidates: ServerSource[]; notes: DiscoveryNote[] } {
  const candidates: ServerSource[] = [];
  const notes: DiscoveryNote[] = [];
  if (options.url !== undefined) {
    candidates.push({ kind: 'url', url: options.url });
    notes.push({ source: 'url', subject: options.url, status: 'found', detail: 'configured: the data layer uses this server and starts none' });
    return { candidates, notes };
  }
  notes.push({ source: 'url', subject: '-', status: 'skipped', detail: 'no url configured: the data layer manages a local server' });

  if (options.bindings === false) {
    notes.push({ source: 'binding', subject: 'chromadb-js-bindings-*', status: 'skipped', detail: 'disabled (bindings: false)' });
  } else {
    const names = bindingPackagesFor();
    if (names.length === 0) {
      notes.push({ source: 'binding', subject: 'chromadb-js-bindings-*', status: 'skipped', detail: `no Chroma binding is published for ${process.platform}-${process.arch}` });
    }
    const seen = new Set<string>();
    for (const name of names) {
      let any = false;
      for (const [label, req] of resolvers()) {
        const found = resolveBinding(req, name);
        if (found === undefined || seen.has(found.modulePath)) continue;
        seen.add(found.modulePath);
        any = true;
        candidates.push({ kind: 'binding', packageName: name, version: found.version, modulePath: found.modulePath, resolvedFrom: label });
        notes.push({ source: 'binding', subject: `${name}@${found.version}`, status: 'found', detail: `installed (resolved from ${label}): ${found.modulePath}` });
      }
      if (!any) notes.push({ source: 'binding', subject: name, status: 'missing', detail: 'not installed: npm install (it is an optional dependency of aico-data)' });
    }
  }

  const exe = options.executable ?? 'chroma';
  if (exe === false) {
    notes.push({ source: 'executable', subject: 'chroma', status: 'skipped', detail: 'disabled (executable: false)' });
  } else {
    const path = findExecutable(exe, options.searchPath ?? process.env.PATH ?? '');
    if (path !== undefined) {
      candidates.push({ kind: 'executable', path });
      notes.push({ source: 'executable', subject: exe, status: 'found', detail: path });
    } else {
      notes.push({ source: 'executable', subject: exe, status: 'missing', detail: 'not on PATH (pip install chromadb provides one)' });
    }
  }
  return { candidates, notes };
}

function resolvers(): Array<[string, NodeJS.Require]> {
  const out: Array<[string, NodeJS.Require]> = [['aico-data', createRequire(import.meta.url)]];
  try {
    out.push(['chromadb', createRequire(createRequire(import.meta.url).resolve('chromadb'))]);
  } catch {
    // The client is a dependency; without it the store fails later with a clear error.
  }
  return out;
}

function resolveBinding(req: NodeJS.Require, name: string): { version: string; modulePath: string } | undefined {
  try {
    const pkgPath = req.resolve(`${name}/package.json`);
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string; main?: string };
    const modulePath = join(dirname(pkgPath), pkg.main ?? 'index.js');
    accessSync(modulePath, constants.R_OK);
    return { version: pkg.version ?? '?', modulePath };
  } catch {
    return undefined;
  }
}

/** `name` if it is a path to an executable file, else its first match on `searchPath`. */
export function findExecutable(name: string, searchPath: string): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  const isExec = (p: string) => {
    try {
      accessSync(p, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (name.includes('/') || name.includes('\\')) return isExec(name) ? name : undefined;
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = join(dir, name + ext);
      if (isExec(p)) return p;
    }
  }
  return undefined;
}

/** A short human description of a source. */
export function describeSource(s: ServerSource): string {
  switch (s.kind) {
    case 'url':
      return `configured server ${s.url}`;
    case 'binding':
      return `npm ${s.packageName}@${s.version}`;
    case 'executable':
      return `executable ${s.path}`;
  }
}
