/**
 * AICO topic names: `<domain>/<object>/<action>/v<n>`, e.g. `memory/store/request/v1`. The
 * action may have several segments (`conversation/message/store/request/v1`); the last one
 * before the version says what kind of message it is (`request`, `response`, `created`...).
 *
 * Subscription patterns (one syntax for both bus implementations):
 * - an exact topic matches only itself;
 * - a pattern ending in `/` is a prefix (`memory/` matches every memory topic);
 * - `*` matches exactly one segment (`data/* /created/v1`, without the space);
 * - a trailing `**` matches the rest, zero or more segments (`data/**`).
 */
import { invalidArgument } from '../errors.js';

const SEGMENT = /^[a-z0-9][a-z0-9_.-]*$/;
const VERSION = /^v[1-9][0-9]*$/;
const MAX_TOPIC = 256;
const MAX_SEGMENTS = 8;

/** Parts of an AICO topic. */
export interface TopicParts {
  readonly domain: string;
  readonly object: string;
  /** Everything between object and version (`store/request` in `conversation/message/store/request/v1`). */
  readonly action: string;
  /** The `n` of `v<n>`. */
  readonly version: number;
}

/** True when `topic` follows `<domain>/<object>/<action>/v<n>` (lower-case segments). */
export function isTopic(topic: unknown): topic is string {
  if (typeof topic !== 'string' || topic.length > MAX_TOPIC) return false;
  const parts = topic.split('/');
  if (parts.length < 4 || parts.length > MAX_SEGMENTS) return false;
  for (let i = 0; i < parts.length - 1; i++) if (!SEGMENT.test(parts[i]!)) return false;
  return VERSION.test(parts[parts.length - 1]!);
}

/** Builds a topic; `INVALID_ARGUMENT` when a part is not a lower-case segment. */
export function topic(domain: string, object: string, action: string, version = 1): string {
  const t = `${domain}/${object}/${action}/v${version}`;
  if (!isTopic(t)) throw invalidArgument(`not an AICO topic: ${JSON.stringify(t)} (want <domain>/<object>/<action>/v<n>)`, { field: 'topic' });
  return t;
}

/** Splits a topic into its parts; `INVALID_ARGUMENT` when it is not one. */
export function parseTopic(t: string): TopicParts {
  if (!isTopic(t)) throw invalidArgument(`not an AICO topic: ${JSON.stringify(t)} (want <domain>/<object>/<action>/v<n>)`, { field: 'topic' });
  const parts = t.split('/');
  const v = parts.pop()!;
  const [domain, object, ...action] = parts as [string, string, ...string[]];
  return { domain, object, action: action.join('/'), version: Number(v.slice(1)) };
}

/** Checks a topic argument and returns it. */
export function requireTopic(t: unknown, field = 'topic'): string {
  if (!isTopic(t)) throw invalidArgument(`${field} must be an AICO topic <domain>/<object>/<action>/v<n>, got ${JSON.stringify(t)}`, { field });
  return t;
}

/**
 * The response topic of a request topic: `memory/store/request/v1` -> `memory/store/response/v1`.
 * `INVALID_ARGUMENT` when the action is not `request`.
 */
export function responseTopicOf(requestTopic: string): string {
  parseTopic(requestTopic);
  const parts = requestTopic.split('/');
  if (parts[parts.length - 2] !== 'request') {
    throw invalidArgument(`${requestTopic} is not a request topic (the segment before the version must be "request")`, { field: 'topic' });
  }
  parts[parts.length - 2] = 'response';
  return parts.join('/');
}

/** A compiled subscription pattern. */
export interface TopicPattern {
  readonly source: string;
  /**
   * The literal text every matching topic starts with: what a ZeroMQ SUB socket subscribes to
   * (ZeroMQ filters by byte prefix; {@link TopicPattern.matches} does the exact test).
   */
  readonly prefix: string;
  matches(topic: string): boolean;
}

/** Compiles a subscription pattern; `INVALID_ARGUMENT` for an empty or malformed one. */
export function compilePattern(pattern: unknown): TopicPattern {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_TOPIC) {
    throw invalidArgument('a subscription pattern must be a non-empty topic, prefix ending in "/", or wildcard pattern', { field: 'pattern' });
  }
  const source = pattern;
  const segments = pattern.split('/');
  const prefixMode = pattern.endsWith('/');
  if (prefixMode) segments.pop();
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '*' || (s === '**' && last && !prefixMode)) continue;
    if (!SEGMENT.test(s)) {
      throw invalidArgument(`bad subscription pattern ${JSON.stringify(pattern)}: segment ${JSON.stringify(s)} (segments are lower-case; "*" is one segment, a final "**" the rest)`, {
        field: 'pattern',
      });
    }
  }
  const wildcard = segments.findIndex((s) => s === '*' || s === '**');
  const literal = wildcard === -1 ? segments : segments.slice(0, wildcard);
  const prefix = literal.join('/') + (wildcard === -1 ? (prefixMode ? '/' : '') : literal.length > 0 ? '/' : '');
  // A prefix pattern with wildcards ("data/*/") matches those segments and anything after them.
  const rest = segments[segments.length - 1] === '**' || prefixMode;
  const fixed = segments[segments.length - 1] === '**' ? segments.slice(0, -1) : segments;
  const matches = (t: string): boolean => {
    if (wildcard === -1) return prefixMode ? t.startsWith(prefix) : t === source;
    const parts = t.split('/');
    if (rest ? parts.length < fixed.length : parts.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) {
      if (fixed[i] !== '*' && fixed[i] !== parts[i]) return false;
    }
    return true;
  };
  return { source, prefix, matches };
}
