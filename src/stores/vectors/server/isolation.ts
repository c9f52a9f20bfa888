/**
 * Network isolation of the managed Chroma server.
 *
 * Chroma 1.0's Rust server has no authentication (its `chroma run` passes a no-op
 * `AuthenticateAndAuthorize`, and `CHROMA_SERVER_AUTHN_*` settings are ignored) and listens
 * only on TCP, so on a shared 127.0.0.1 any local process could list, read and delete the
 * index. The server therefore runs in a private network namespace (`unshare --user
 * --map-root-user --net`, loopback brought up inside): its TCP port exists only there. Its
 * wrapper, in the same namespace, bridges that port to a Unix socket in a 0700 folder of the
 * data folder, and the data layer reaches the socket through a token-checking loopback proxy
 * (see `auth-proxy.ts`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** How the managed server is reachable. */
export type ServerIsolation =
  | { kind: 'namespace'; unshare: string; ip: string }
  | { kind: 'none'; reason: string };

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'];
// /usr/sbin is not on a normal user's PATH on Debian: look there explicitly.
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

let probed: ServerIsolation | undefined;

/** Arguments that put a command in a fresh user + network namespace with loopback up. */
export function namespacePrefix(iso: Extract<ServerIsolation, { kind: 'namespace' }>): { file: string; args: string[] } {
  // sh: `$0` is ip, `$@` the real command, exec'd so that the pid stays the wrapper's.
  return { file: iso.unshare, args: ['--user', '--map-root-user', '--net', '--', '/bin/sh', '-c', '"$0" link set lo up && exec "$@"', iso.ip] };
}

/**
 * Whether a private network namespace can be made here (checked once per process: unprivileged
 * user namespaces may be disabled, e.g. Ubuntu 24.04's AppArmor restriction, or in containers).
 */
export function probeIsolation(): ServerIsolation {
  if (probed) return probed;
  if (process.platform !== 'linux') return (probed = { kind: 'none', reason: `network namespaces are Linux-only (this is ${process.platform})` });
  const unshare = UNSHARE.find((p) => existsSync(p));
  const ip = IP.find((p) => existsSync(p));
  if (!unshare) return (probed = { kind: 'none', reason: 'unshare (util-linux) not found' });
  if (!ip) return (probed = { kind: 'none', reason: 'ip (iproute2) not found' });
  const iso = { kind: 'namespace', unshare, ip } as const;
  const { file, args } = namespacePrefix(iso);
  const r = spawnSync(file, [...args, '/bin/true'], { timeout: 5000, encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).trim().split('\n').pop();
    return (probed = { kind: 'none', reason: `cannot create a private network namespace: ${why}` });
  }
  return (probed = iso);
}

/** What to do when isolation is not possible. */
export const ISOLATION_FIX =
  'Fix: allow unprivileged user namespaces (Debian: sysctl kernel.unprivileged_userns_clone=1; Ubuntu 24.04: ' +
  'sysctl kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for node), install util-linux and iproute2, ' +
  'or pass vectors: { server: { insecureSharedLoopback: true } } to accept that any local process can read and delete the vector index.';
