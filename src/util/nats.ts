/**
 * The NATS client libraries, loaded on first use like zeromq (`./zeromq.ts`): `import 'aico-data'`
 * must not load the code of a transport that only the NATS bus needs.
 */
import { createRequire } from 'node:module';
import type * as Jetstream from '@nats-io/jetstream';
import type * as Nats from '@nats-io/transport-node';

let core: typeof Nats | undefined;
let js: typeof Jetstream | undefined;

/** `@nats-io/transport-node` (required on the first call). */
export function natsCore(): typeof Nats {
  return (core ??= createRequire(import.meta.url)('@nats-io/transport-node') as typeof Nats);
}

/** `@nats-io/jetstream` (required on the first call). */
export function natsJetstream(): typeof Jetstream {
  return (js ??= createRequire(import.meta.url)('@nats-io/jetstream') as typeof Jetstream);
}

/**
 * The inbox prefix of NATS user `user` (`_INBOX.<user>`): replies to its requests, JetStream
 * acks and pulled messages arrive under `<prefix>.>`, which the server lets only that user
 * subscribe to (`natsServerAuthorization`), so no other admitted user reads them.
 */
export function natsInboxPrefix(user: string | undefined): string {
  return user === undefined ? '_INBOX' : `_INBOX.${user}`;
}
