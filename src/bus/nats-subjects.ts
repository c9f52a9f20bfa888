/**
 * aico-data topics as AICO's NATS subjects: `aico.<tenant_id>.<topic with "/" as ".">`, so
 * `memory/store/request/v1` of tenant `default` is `aico.default.memory.store.request.v1`
 * (upstream: `aico.<tenant_id>.<domain>.<action>`). The mapping is one to one because the NATS
 * bus refuses topics with a `.` inside a segment (which the topic syntax allows elsewhere).
 * Subscription prefixes become subjects with `>`: `data/` is `aico.<tenant>.data.>`.
 */
import { invalidArgument } from '../errors.js';
import { isTopic } from './topics.js';

const TENANT = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a tenant id: one NATS subject token (no `.`, `*`, `>` or spaces). */
export function requireTenant(tenant: unknown): string {
  if (typeof tenant !== 'string' || !TENANT.test(tenant)) throw invalidArgument('tenantId must be 1-64 characters of [A-Za-z0-9_-] (one NATS subject token)', { field: 'tenantId' });
  return tenant;
}

/** The subject of a topic; `INVALID_ARGUMENT` for a topic with a `.` in a segment. */
export function subjectOf(tenant: string, topic: string): string {
  if (topic.includes('.')) throw invalidArgument(`${topic}: the NATS bus maps "/" to "." and cannot carry a topic with "." in a segment`, { field: 'topic' });
  return `aico.${tenant}.${topic.replaceAll('/', '.')}`;
}

/** The topic of a subject of this tenant, or undefined when the subject is not one of its topics. */
export function topicOf(tenant: string, subject: string): string | undefined {
  const head = `aico.${tenant}.`;
  if (!subject.startsWith(head)) return undefined;
  const topic = subject.slice(head.length).replaceAll('.', '/');
  return isTopic(topic) ? topic : undefined;
}

/**
 * The subject filter of a subscription prefix (see `compilePattern`): a complete topic stays
 * exact; a prefix ending in `/` (or the empty prefix) covers everything below it.
 */
export function subjectFilterOf(tenant: string, prefix: string): string {
  if (prefix === '') return `aico.${tenant}.>`;
  if (prefix.endsWith('/')) return `aico.${tenant}.${prefix.slice(0, -1).replaceAll('/', '.')}.>`;
  return `aico.${tenant}.${prefix.replaceAll('/', '.')}`;
}
