/**
 * Part 4, hostile input: fast-check drives the public TypeScript API (SQL store, repositories,
 * services, entity factories, KV store and queue, crypto, analytics, schemas, openDataLayer)
 * with random strings, full Unicode, huge values, wrong types, SQL injection strings and
 * prototype-pollution keys. Every call must succeed or fail with an `AicoDataError` carrying a
 * known code other than `INTERNAL` (which means a bug); injected SQL must change nothing; no prototype may be polluted; the process must
 * not crash (a crash kills this test's worker and fails the file).
 *
 * Knobs for hunting a failure: `AICO_RELIABILITY_SEED` replays a run, `AICO_HOSTILE_RUNS`
 * overrides the number of calls, `AICO_HOSTILE_DEBUG=1` runs `integrity_check` after every call
 * and names the first call after which it fails.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createMemory,
  createMessage,
  createUserPreferences,
  type User,
} from '../../src/domain/index.js';
import { AicoDataError, ERROR_CODES, openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { BASE_SEED, scale } from './lib/config.js';
import { report } from './lib/results.js';

const RUNS = Number(process.env.AICO_HOSTILE_RUNS ?? scale(150, 3_000));

const INJECTIONS = [
  "'; DROP TABLE users; --",
  "x' OR '1'='1",
  '1; DELETE FROM messages',
  "') UNION SELECT name, sql FROM sqlite_master --",
  '" OR ""="',
  '%',
  '_',
  '*',
  'NEAR(a b)',
  '"unterminated',
  "ATTACH DATABASE '/tmp/x.db' AS x",
  "SELECT readfile('/etc/passwd')",
  'PRAGMA key = 1',
  '\u0000',
  "\\'; --",
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'hasOwnProperty'];

/** Objects with prototype-pollution keys, built the way a JSON parser would (own `__proto__` property). */
const pollution = fc
  .tuple(fc.constantFrom(...PROTO_KEYS), fc.constantFrom(...PROTO_KEYS), fc.jsonValue())
  .map(([a, b, v]) => JSON.parse(`{"${a}": {"${b}": {"polluted": true}}, "value": ${JSON.stringify(v) ?? 'null'}}`) as unknown);

const huge = fc.constantFrom('x'.repeat(1 << 21), '😀'.repeat(300_000), Buffer.alloc(1 << 25, 1), new Uint8Array(70_000));

/** One hostile argument. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 3, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 2, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: pollution },
  { weight: 1, arbitrary: huge },
  {
    weight: 3,
    arbitrary: fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }),
  },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, NaN, Infinity, -1, 2 ** 64, -0, 1.5, Symbol('s'), () => 1, true) },
  { weight: 1, arbitrary: fc.integer() },
);

type Call = (d: DataLayer, a: unknown, b: unknown, c: unknown) => unknown;
const any = (v: unknown) => v as never;

let user: User;
let conversationId: string;

/** The API surface under test: each entry calls one public function with hostile arguments. */
const CALLS: Record<string, Call> = {
  'sql.query(sql)': (d, a) => d.sql.query(any(a)),
  'sql.query(params)': (d, a, b) => d.sql.query('SELECT ? AS a, ? AS b', any([a, b])),
  'sql.query(named)': (d, a) => d.sql.query('SELECT :x AS x', any(a)),
  'sql.execute(params)': (d, a, b) => d.sql.execute('INSERT INTO hostile_sink(a, b) VALUES (?, ?)', any([a, b])),
  'sql.querySync(params)': (d, a) => d.sql.querySync('SELECT ? AS a', any([a])),
  'sql.batch': (d, a) => d.sql.batch(any(a)),
  'sql.transaction': (d, a) => d.sql.transaction(any(a)),
  'users.get': (d, a) => d.repos.users.get(any(a)),
  'users.save': (d, a) => d.repos.users.save(any(a)),
  'users.delete': (d, a) => d.repos.users.delete(any(a)),
  'users.list': (d, a) => d.repos.users.list(any(a)),
  'conversations.get': (d, a) => d.repos.conversations.get(any(a)),
  'conversations.getByUser': (d, a, b) => d.repos.conversations.getByUser(any(a), any(b)),
  'conversations.getByUser(page)': (d, a) => d.repos.conversations.getByUser(user.id, any({ limit: a, cursor: a })),
  'conversations.searchByContent': (d, a, b) => d.repos.conversations.searchByContent(any(a), any(b)),
  'conversations.search(user)': (d, a) => d.repos.conversations.searchByContent(any(a), { userId: user.id, limit: 5 } as never),
  'conversations.saveMessage': (d, a) => d.repos.conversations.saveMessage(any(a)),
  'conversations.listByUser': (d, a, b) => d.repos.conversations.listByUser(any(a), any(b)),
  'memories.getByContext': (d, a, b) => d.repos.memories.getByContext(any(a), any(b)),
  'memories.getByContext(user)': (d, a) => d.repos.memories.getByContext(any(a), { userId: user.id, limit: 5 }),
  'memories.getByUser': (d, a, b) => d.repos.memories.getByUser(any(a), any(b)),
  'memories.recordAccess': (d, a, b) => d.repos.memories.recordAccess(any(a), any(b)),
  'memories.delete': (d, a) => d.repos.memories.delete(any(a)),
  'preferences.save': (d, a) => d.repos.preferences.save(any(a)),
  'preferences.save(settings)': (d, a) => d.repos.preferences.save(createUserPreferences({ userId: user.id, settings: any(a) })),
  'preferences.get': (d, a) => d.repos.preferences.get(any(a)),
  'devices.get': (d, a) => d.repos.devices.get(any(a)),
  'devices.trust': (d, a, b) => d.repos.devices.trust(any(a), any(b)),
  'createMessage': (_d, a, b) => createMessage({ conversationId, userId: user.id, role: any(b), content: any(a) }),
  'createMessage(object)': (_d, a) => createMessage(any(a)),
  'createMemory': (_d, a, b) => createMemory({ userId: user.id, type: any(b), content: any(a), importance: any(b) }),
  'createConversation': (_d, a) => createConversation(any(a)),
  'onboarding.onboardNewUser': (d, a) => d.services.onboarding.onboardNewUser(any(a)),
  'conversation.processUserMessage': (d, a, b) => d.services.conversation.processUserMessage(user.id, any(a), () => any(b)),
  'conversation.processUserMessage(user)': (d, a) => d.services.conversation.processUserMessage(any(a), 'hi', () => 'ok'),
  'unitOfWork': (d, a) => d.unitOfWork(any(a)),
  'kv.put': (d, a, b, c) => d.kv.put(any(a), any(b), any(c)),
  'kv.put(cache)': (d, a, b) => d.kv.put('cache', any(a), any(b)),
  'kv.get': (d, a, b) => d.kv.get(any(a), any(b)),
  'kv.putJson': (d, a, b) => d.kv.putJson('cache', any(a), b),
  'kv.putJson(ttl)': (d, a, b) => d.kv.putJson('cache', 'k', any(a), any({ ttlMs: b })),
  'kv.getJson': (d, a) => d.kv.getJson('cache', any(a)),
  'kv.delete': (d, a, b) => d.kv.delete(any(a), any(b)),
  'kv.writeBatch': (d, a) => d.kv.writeBatch(any(a)),
  'kv.entriesSync': (d, a, b) => [...d.kv.entriesSync(any(a), any(b))].slice(0, 3),
  'kv.defineNamespace': (d, a, b) => d.kv.defineNamespace(any(a), any(b)),
  'kv.queue.enqueue': (d, a, b) => d.kv.queue.enqueue(any(a), any(b)),
  'kv.queue.lease': (d, a, b, c) => d.kv.queue.lease(any(a), any(b), any(c)),
  'kv.queue.ack': (d, a) => d.kv.queue.ack(any(a)),
  'crypto.seal': (d, a, b, c) => d.crypto.seal(any(a), any(b), any(c)),
  'crypto.open': (d, a, b) => d.crypto.open('chroma', any(a), any(b)),
  'crypto.hmac': (d, a, b) => d.crypto.hmac(any(a), any(b)),
  'analytics.query': (d, a, b) => d.analytics!.query(any(a), any(b)),
  'analytics.query(params)': (d, a) => d.analytics!.query('SELECT count(*) AS n FROM messages WHERE role = $r', any({ r: a })),
  'analytics.reports.dailyMetrics': (d, a) => d.analytics!.reports.dailyMetrics(any(a)),
  'schemas.activatePlugin': (d, a) => d.schemas.activatePlugin(any(a)),
  'schemas.history': (d, a) => d.schemas.history(any(a)),
  'schemas.migrate': (d, a, b) => d.schemas.migrate(any(a), any(b)),
  'changePassword(types)': (d, a) => (typeof a === 'string' ? undefined : d.changePassword(any(a), any(a))),
  'openDataLayer(options)': (_d, a) => openDataLayer(any(a)),
  'openDataLayer(store options)': (_d, a, b, c) => openDataLayer({ dir: join(t.dir, 'missing'), password: 'x', create: false, kv: any(a), sql: any(b), analytics: any(c) }),
};
const NAMES = Object.keys(CALLS);

const t = tempDir('aico-rel-hostile-');
let data: DataLayer;
const tally = { inputs: 0, ok: 0, aicoErrors: 0, crashes: 0 };
const byCode = new Map<string, number>();
const offenders: string[] = [];

beforeAll(async () => {
  data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'hostile test password' });
  ({ user } = await data.services.onboarding.onboardNewUser({ name: 'sentinel' }));
  const conversation = createConversation({ userId: user.id });
  await data.repos.conversations.save(conversation);
  conversationId = conversation.id;
  await data.repos.conversations.saveMessage(createMessage({ conversationId, userId: user.id, role: 'user', content: 'sentinel message' }));
  await data.sql.exec('CREATE TABLE hostile_sink(a, b)');
  data.kv.put('cache', 'sentinel', Buffer.from('sentinel value'));
}, 60_000);

afterAll(async () => {
  await data?.close();
  t.cleanup();
});

function describeValue(v: unknown): string {
  try {
    const s = typeof v === 'string' ? JSON.stringify(v.slice(0, 60)) : typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v));
    return (s ?? typeof v).slice(0, 80);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

describe('hostile input through the public API', () => {
  it(`${RUNS} random calls: every failure is an AicoDataError with a known code`, async () => {
    const codes = new Set<string>(ERROR_CODES);
    await fc.assert(
      fc.asyncProperty(fc.nat(NAMES.length - 1), hostile, hostile, hostile, async (i, a, b, c) => {
        const name = NAMES[i]!;
        tally.inputs++;
        try {
          await CALLS[name]!(data, a, b, c);
          tally.ok++;
        } catch (e) {
          // INTERNAL means "a bug": bad input must get a precise code instead.
          if (e instanceof AicoDataError && codes.has(e.code) && e.code !== 'INTERNAL') {
            tally.aicoErrors++;
            byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
          } else {
            tally.crashes++;
            const err = e as { name?: string; message?: string };
            const code = e instanceof AicoDataError ? ` [${e.code}]` : '';
            offenders.push(`${name}(${describeValue(a)}, ${describeValue(b)}, ${describeValue(c)}): ${err?.name ?? typeof e}${code}: ${String(err?.message ?? e).slice(0, 160)}`);
          }
        }
        if (process.env.AICO_HOSTILE_DEBUG) {
          const problems = data.sql.integrityCheck(true);
          if (problems.length > 0) throw new Error(`integrity broken after ${name}(${describeValue(a)}, ${describeValue(b)}, ${describeValue(c)}): ${problems}`);
        }
        // Nothing pollutes Object.prototype.
        if (({} as Record<string, unknown>).polluted !== undefined) {
          offenders.push(`${name}: Object.prototype polluted`);
          delete (Object.prototype as Record<string, unknown>).polluted;
        }
      }),
      { numRuns: RUNS, seed: BASE_SEED, endOnFailure: true },
    );
    // Injected SQL changed nothing: the sentinel rows and every core table are intact.
    expect((await data.repos.users.get(user.id))?.name).toBe('sentinel');
    expect((await data.sql.queryOne<{ n: number }>("SELECT count(*) AS n FROM messages WHERE content = 'sentinel message'"))!.n).toBe(1);
    expect(data.kv.get('cache', 'sentinel')?.toString()).toBe('sentinel value');
    expect(data.sql.integrityCheck(true)).toEqual([]);
    report({
      part: '4 hostile input',
      tried: `random calls of ${NAMES.length} public functions (fast-check: strings, Unicode, huge values, wrong types, SQL injection, prototype-pollution keys)`,
      count: tally.inputs,
      failures: tally.crashes,
      figures: { succeeded: tally.ok, 'AicoDataError': tally.aicoErrors, ...Object.fromEntries([...byCode].sort((x, y) => y[1] - x[1]).slice(0, 4)) },
    });
    expect(offenders).toEqual([]);
  }, scale(120_000, 900_000));

  it('prototype-pollution keys round-trip as plain data through KV JSON and preferences', async () => {
    const hostileJson = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "ok": 1}') as Record<string, unknown>;
    data.kv.putJson('cache', 'proto', hostileJson);
    const back = data.kv.getJson<Record<string, unknown>>('cache', 'proto')!;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
    expect(back.ok).toBe(1);
    await data.repos.preferences.save(createUserPreferences({ userId: user.id, settings: hostileJson as never })).catch((e: unknown) => {
      expect(e).toBeInstanceOf(AicoDataError);
    });
    const prefs = await data.repos.preferences.get(user.id);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((prefs?.settings as { polluted?: unknown } | undefined)?.polluted).toBeUndefined();
  });
});
