/**
 * User name and password of a NATS bus client. Either generated and kept by the application, or
 * derived from a data folder's keyed hash like the ZeroMQ CURVE keys (`./curve.ts`): only someone
 * who can open the folder (knows its password) can compute them, and they are the same on every
 * run. The NATS server is configured with them (`authorization { users = [...] }`) and refuses
 * every connection without them.
 */
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import { natsInboxPrefix } from '../util/nats.js';

/** A NATS user. */
export interface NatsCredentials {
  readonly user: string;
  readonly password: string;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** New random credentials for client `name` (e.g. a module the application gives its own user). */
export function generateNatsCredentials(name = 'owner'): NatsCredentials {
  if (typeof name !== 'string' || !NAME.test(name)) throw invalidArgument('the bus client name must be a short lower-case label', { field: 'client' });
  return { user: `aico-${name}`, password: randomBytes(32).toString('base64url') };
}

/**
 * The credentials of client `name` derived from a folder's keyed hash (`data.crypto`: HMAC-SHA256
 * under a key HKDF derives from the data key, purpose `bus`): 256 bits, different for every
 * folder and client, unknowable without the folder's password, changed by `rotateKeys`.
 */
export function deriveNatsCredentials(crypto: { hmac(purpose: string, data: Uint8Array): Buffer }, name = 'owner'): NatsCredentials {
  if (typeof name !== 'string' || !NAME.test(name)) throw invalidArgument('the bus client name must be a short lower-case label', { field: 'client' });
  const secret = crypto.hmac('bus', Buffer.from(`aico-data/bus/nats/${name}/v1`, 'utf8'));
  return { user: `aico-${name}`, password: secret.toString('base64url') };
}

/**
 * The `authorization` block of a nats-server configuration admitting these users, each limited
 * to what aico-data's bus and sync relay use: publishing on AICO subjects (`aico.>`), the relay's
 * (`aicosync.>`), the JetStream API and acks, and other clients' inboxes (to answer requests);
 * subscribing to AICO subjects and to its own inbox only (so no admitted user reads another's
 * responses). Passwords are written in plain text: keep the file readable by the server only.
 */
export function natsServerAuthorization(users: readonly NatsCredentials[]): string {
  const q = (v: string) => JSON.stringify(v); // NATS config strings take JSON escapes
  const entries = users.map((u) => {
    if (typeof u?.user !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,69}$/.test(u.user)) throw invalidArgument('a NATS user name is a lower-case token (no "." or wildcards)', { field: 'user' });
    if (typeof u.password !== 'string' || u.password.length === 0) throw invalidArgument('a NATS user needs a password', { field: 'password' });
    const publish = ['aico.>', 'aicosync.>', '$JS.API.>', '$JS.ACK.>', '_INBOX.>'].map(q).join(', ');
    const subscribe = ['aico.>', `${natsInboxPrefix(u.user)}.>`].map(q).join(', ');
    return `{ user: ${q(u.user)}, password: ${q(u.password)}, permissions: { publish: { allow: [${publish}] }, subscribe: { allow: [${subscribe}] } } }`;
  });
  return `authorization { users = [\n  ${entries.join(',\n  ')}\n] }`;
}
