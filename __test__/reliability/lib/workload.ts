/**
 * A known data set written through the public API, and a read-back that compares every value
 * with what was written. Used by the tampering part (garbage must never come back) and the
 * plaintext part (canaries must never reach a file).
 */
import { createConversation, createMemory, createMessage, createUserPreferences } from '../../../src/domain/index.js';
import type { DataLayer } from '../../../src/index.js';
import type { VectorStore } from '../../../src/stores/vectors/index.js';

/** The part of `data.memories` the workload uses (libSQL first, then Chroma). */
interface SemanticMemoryLike {
  readonly semantic: boolean;
  rememberMany(inputs: ReadonlyArray<{ userId: string; type: 'semantic'; content: string; importance: number }>): Promise<Array<{ id: string; content: string }>>;
}

/** What was written, to compare a read-back with. */
export interface Expected {
  userId: string;
  messages: Map<string, string>;
  memories: Map<string, string>;
  preferences: Record<string, string>;
  kv: Map<string, string>;
  vectors: Map<string, string>;
  /** Messages per role, as analytics must report them. */
  roles: Map<string, number>;
}

export interface WorkloadOptions {
  messages: number;
  memories: number;
  kvValues: number;
  vectors: number;
  /** Put into every text written (the plaintext part's canary). */
  marker: string;
}

/** Writes a data set through the repositories, the KV store, analytics and (if given) Chroma. */
export async function writeWorkload(data: DataLayer, o: WorkloadOptions, vectors?: VectorStore): Promise<Expected> {
  const { user } = await data.services.onboarding.onboardNewUser({ name: `user ${o.marker}` });
  const exp: Expected = { userId: user.id, messages: new Map(), memories: new Map(), preferences: {}, kv: new Map(), vectors: new Map(), roles: new Map() };
  const settings = { note: `preference ${o.marker}`, theme: 'dark' };
  await data.repos.preferences.save(createUserPreferences({ userId: user.id, settings }));
  exp.preferences = settings;
  const conversation = createConversation({ userId: user.id, title: `conversation ${o.marker}` });
  await data.repos.conversations.save(conversation);
  for (let i = 0; i < o.messages; i++) {
    const role = i % 2 === 0 ? 'user' : 'assistant';
    const m = createMessage({ conversationId: conversation.id, userId: user.id, role, content: `message ${i} about ${o.marker} ${'x'.repeat(i % 50)}` });
    await data.repos.conversations.saveMessage(m);
    exp.messages.set(m.id, m.content);
  }
  for (let i = 0; i < o.memories; i++) {
    const mem = createMemory({ userId: user.id, type: 'semantic', content: `memory ${i}: ${o.marker}` });
    await data.repos.memories.save(mem);
    exp.memories.set(mem.id, mem.content);
  }
  for (let i = 0; i < o.kvValues; i++) {
    const v = `cached ${i} ${o.marker}`;
    data.kv.put('cache', `k${i}`, Buffer.from(v));
    exp.kv.set(`k${i}`, v);
  }
  if (o.vectors > 0) {
    const memories = (data as unknown as { memories?: SemanticMemoryLike }).memories;
    if (memories?.semantic) {
      // Through the semantic memory: libSQL is the source of truth, Chroma derived from it.
      const written = await memories.rememberMany(Array.from({ length: o.vectors }, (_, i) => ({ userId: user.id, type: 'semantic' as const, content: `vector memory ${i} ${o.marker}`, importance: i / o.vectors })));
      for (const m of written) exp.vectors.set(m.id, m.content);
    } else if (vectors) {
      const records = Array.from({ length: o.vectors }, (_, i) => ({ id: `vec-${i}`, text: `vector memory ${i} ${o.marker}`, metadata: { userId: user.id, importance: i / o.vectors } }));
      await vectors.memories.add(records);
      for (const r of records) exp.vectors.set(r.id, r.text);
    }
  }
  // Onboarding wrote rows of its own (welcome message, system memory): the expectation is the whole table.
  const written = exp.messages.size;
  exp.messages = new Map((await data.sql.query<{ id: string; content: string }>('SELECT id, content FROM messages')).map((r) => [r.id, r.content]));
  exp.memories = new Map((await data.sql.query<{ id: string; content: string }>('SELECT id, content FROM memories')).map((r) => [r.id, r.content]));
  exp.roles = new Map((await data.sql.query<{ role: string; n: number }>('SELECT role, count(*) AS n FROM messages GROUP BY role')).map((r) => [r.role, r.n]));
  if (exp.messages.size < written) throw new Error('the workload lost messages while writing');
  if (data.analytics) {
    await data.analytics.sync();
    await data.analytics.snapshot();
  }
  return exp;
}

/** Differences of a read-back: `lost` (a committed value missing or rolled back to an earlier one) and `garbage` (a value that was never written). */
export interface ReadBackDiffs {
  lost: string[];
  garbage: string[];
}

/**
 * Reads everything back and classifies each difference from `exp` (both lists empty:
 * identical). `earlier` holds values written before `exp` (a rollback to one is `lost`, not
 * garbage). Errors propagate: the caller classifies them.
 */
export async function readBack(data: DataLayer, exp: Expected, vectors?: VectorStore, earlier?: Expected): Promise<ReadBackDiffs> {
  const d: ReadBackDiffs = { lost: [], garbage: [] };
  const messages = await data.sql.query<{ id: string; content: string }>('SELECT id, content FROM messages');
  const seen = new Set<string>();
  for (const m of messages) {
    seen.add(m.id);
    if (!exp.messages.has(m.id)) d.garbage.push(`message ${m.id} was never written`);
    else if (exp.messages.get(m.id) !== m.content) d.garbage.push(`message ${m.id} content differs`);
  }
  const missing = [...exp.messages.keys()].filter((id) => !seen.has(id));
  if (missing.length > 0) d.lost.push(`${missing.length} of ${exp.messages.size} messages missing`);
  for (const [id, content] of exp.messages) {
    if (!seen.has(id)) continue;
    const m = await data.repos.conversations.getMessage(id);
    if (m?.content !== content) d.garbage.push(`message ${id} (by id) differs`);
  }
  const memories = await data.sql.query<{ id: string; content: string }>('SELECT id, content FROM memories');
  for (const m of memories) if (exp.memories.get(m.id) !== m.content) d.garbage.push(`memory ${m.id} differs`);
  if (memories.length < exp.memories.size) d.lost.push(`${exp.memories.size - memories.length} memories missing`);
  const prefs = await data.repos.preferences.get(exp.userId);
  if (JSON.stringify(prefs?.settings) !== JSON.stringify(exp.preferences)) (prefs ? d.garbage : d.lost).push('preferences differ');
  const kvDiff = (k: string, got: string | undefined) => {
    if (got === exp.kv.get(k)) return;
    if (got === undefined || got === earlier?.kv.get(k)) d.lost.push(`kv cache/${k} ${got === undefined ? 'missing' : 'rolled back'}`);
    else d.garbage.push(`kv cache/${k} holds a value never written`);
  };
  for (const k of exp.kv.keys()) kvDiff(k, data.kv.get('cache', k)?.toString());
  for (const [k, v] of data.kv.entriesSync('cache')) {
    if (!exp.kv.has(k)) d.garbage.push(`kv scan: key cache/${k} never written`);
    else kvDiff(k, v.toString());
  }
  if (data.analytics) {
    // Derived: after a sync it must equal what libSQL holds now.
    await data.analytics.sync();
    const rows = await data.analytics.query<{ role: string; n: bigint | number }>('SELECT role, count(*) AS n FROM messages GROUP BY role ORDER BY role');
    const src = await data.sql.query<{ role: string; n: number }>('SELECT role, count(*) AS n FROM messages GROUP BY role ORDER BY role');
    const a = JSON.stringify(rows.map((r) => [r.role, Number(r.n)]));
    const b = JSON.stringify(src.map((r) => [r.role, r.n]));
    if (a !== b) d.garbage.push(`analytics ${a} differs from libSQL ${b}`);
  }
  if (vectors && exp.vectors.size > 0) {
    const records = await vectors.memories.get({ ids: [...exp.vectors.keys()] });
    if (records.length < exp.vectors.size) d.lost.push(`chroma: ${records.length} records, expected ${exp.vectors.size}`);
    for (const r of records) if (exp.vectors.get(r.id) !== r.text) d.garbage.push(`chroma ${r.id} differs`);
  }
  return d;
}
