/**
 * User name and password of a NATS bus client. Either generated and kept by the application, or
 * derived from a data folder's keyed hash like the ZeroMQ CURVE keys (`./curve.ts`): only someone
 * who can open the folder (knows its password) can compute them, and they are the same on every
 * run. The NATS server is configured with them (`authorization { users = [...] }`) and refuses
 * every connection without them.
 */
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../errors.js';

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
