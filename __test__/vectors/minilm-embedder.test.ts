import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AicoDataError } from '../../src/errors.js';
import { MiniLmEmbedder, defaultMiniLmDir } from '../../src/stores/vectors/minilm-embedder.js';

// Made by scripts/model/reference-vectors.py with the reference implementation.
interface Reference {
  text: string;
  ids: number[];
  vector: number[];
}
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'minilm-reference.json');
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { sentences: Reference[]; tokenizerOnly: Array<Omit<Reference, 'vector'>> };
const refs = fixture.sentences;

const dir = defaultMiniLmDir();
const present = existsSync(join(dir, 'model.safetensors'));
if (!present && process.env.AICO_DATA_REQUIRE_MODEL) throw new Error(`AICO_DATA_REQUIRE_MODEL is set but the model is not at ${dir}`);
const why = present ? '' : ` (skipped: no model at ${dir}; run \`node scripts/model/fetch-minilm.mjs\`)`;

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
};

const tmp = mkdtempSync(join(tmpdir(), 'aico-minilm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MiniLmEmbedder: refusals', () => {
  it('a missing folder is IO, a config that is not the manifest\'s is CORRUPT', async () => {
    await expect(MiniLmEmbedder.load(join(tmp, 'absent'))).rejects.toMatchObject({ code: 'IO' });
    const bad = join(tmp, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'config.json'), '{"model_type":"bert"}');
    const err = await MiniLmEmbedder.load(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AicoDataError);
    expect(err).toMatchObject({ code: 'CORRUPT' });
    expect((err as Error).message).toContain('config.json');
    await expect(MiniLmEmbedder.load('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe.skipIf(!present)(`MiniLmEmbedder against the reference${why}`, () => {
  const model = present ? MiniLmEmbedder.load(dir) : undefined;

  it('has the model\'s identity and shape', async () => {
    const m = (await model)!;
    expect([m.modelId, m.dimension, m.maxTokens]).toEqual(['all-MiniLM-L6-v2', 384, 256]);
  });

  it(`gives the reference token ids and vectors (cosine >= 0.999) for ${refs.length} sentences`, async () => {
    const m = (await model)!;
    expect(refs.length).toBeGreaterThanOrEqual(50);
    for (const r of refs) expect(Array.from(m.tokenize(r.text)), r.text).toEqual(r.ids);
    const vectors = await m.embed(refs.map((r) => r.text));
    expect(vectors).toHaveLength(refs.length);
    const worst = Math.min(...vectors.map((v, i) => cosine(v, refs[i]!.vector)));
    expect(worst).toBeGreaterThanOrEqual(0.999);
  });

  it('is semantic: a paraphrase without shared words is closer than an unrelated text', async () => {
    const [memory, query, unrelated] = await (await model)!.embed(['Ada loves green tea.', 'What should I offer her to drink?', 'The quarterly tax report is due on Friday.']);
    expect(cosine(memory!, query!)).toBeGreaterThan(cosine(unrelated!, query!) + 0.1);
  });

  it(`gives the reference token ids for ${fixture.tokenizerOnly.length} random strings over many scripts`, async () => {
    const m = (await model)!;
    expect(fixture.tokenizerOnly.length).toBeGreaterThanOrEqual(100);
    for (const r of fixture.tokenizerOnly) expect(Array.from(m.tokenize(r.text)), JSON.stringify(r.text)).toEqual(r.ids);
  });

  it('embeds off the JS thread: the event loop turns while a batch runs', async () => {
    const m = (await model)!;
    let turned = false;
    const p = m.embed(refs.slice(0, 32).map((r) => r.text));
    setImmediate(() => {
      turned = true;
    });
    await p;
    expect(turned).toBe(true);
  });

  it('chunks large batches, keeps order, and refuses non-strings', async () => {
    const m = (await model)!;
    const texts = Array.from({ length: 300 }, (_, i) => (i % 2 ? 'Ada loves green tea.' : 'a'));
    const vs = await m.embed(texts);
    expect(vs).toHaveLength(300);
    expect(Array.from(vs[299]!)).toEqual(Array.from(vs[1]!));
    expect(cosine(vs[0]!, vs[1]!)).toBeLessThan(0.9);
    expect(await m.embed([])).toEqual([]);
    await expect(m.embed([1 as unknown as string])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('splits a batch across worker threads: the same vectors in the same order as one thread', async () => {
    const texts = refs.map((r) => r.text);
    const one = await MiniLmEmbedder.load(dir, { threads: 1 });
    const three = await MiniLmEmbedder.load(dir, { threads: 3 });
    expect([one.threads, three.threads]).toEqual([1, 3]);
    const [a, b] = [await one.embed(texts), await three.embed(texts)];
    expect(b).toHaveLength(a.length);
    for (let i = 0; i < a.length; i++) expect(cosine(a[i]!, b[i]!), texts[i]).toBeGreaterThan(0.99999);
    await expect(MiniLmEmbedder.load(dir, { threads: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a changed weight byte with CORRUPT', async () => {
    const copy = join(tmp, 'changed');
    mkdirSync(copy);
    for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) copyFileSync(join(dir, f), join(copy, f));
    const w = readFileSync(join(copy, 'model.safetensors'));
    w[w.length - 1] ^= 1;
    writeFileSync(join(copy, 'model.safetensors'), w);
    await expect(MiniLmEmbedder.load(copy)).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});
