/**
 * bench/vectors/recall: does recall understand meaning? 40 memories about one person (Ada), 150
 * distractor memories about others, and 40 queries, each a paraphrase of one memory that shares
 * none of its content words ("Ada loves green tea." / "What should I offer her to drink?").
 * Reports recall@5 (the query's memory among the 5 nearest of all 190) for:
 * - all-MiniLM-L6-v2 in the Rust core (`MiniLmEmbedder`);
 * - the lexical `HashingEmbedder`;
 * - hybrid: each of them fused with BM25 over the texts by reciprocal-rank fusion, as semantic
 *   recall fuses vector and keyword hits.
 * Exact (brute-force cosine) search, so the figures measure the embedders, not an index.
 *
 *   npx tsx bench/vectors/recall.ts        (needs the model: node scripts/model/fetch-minilm.mjs)
 */
import { HashingEmbedder, MiniLmEmbedder, reciprocalRankFusion, type Embedder } from '../../src/index.js';

const PAIRS: ReadonlyArray<readonly [memory: string, query: string]> = [
  ['Ada loves green tea.', 'What should I offer her to drink?'],
  ['Ada is allergic to peanuts.', 'Which snack might give her a bad reaction?'],
  ['Ada works as a nurse at the city hospital.', 'What is her job?'],
  ["Ada's sister Clara lives in Lisbon.", 'Where does her sibling reside?'],
  ['Ada was born in 1990 in Edinburgh.', 'In which Scottish town did she come into the world?'],
  ['Ada plays the violin in a community orchestra.', 'Which musical instrument does she practise?'],
  ['Ada has a golden retriever named Biscuit.', 'What kind of pet does she own?'],
  ['Ada is afraid of flying.', 'Does she get nervous on aeroplanes?'],
  ['Ada runs five kilometres every morning before breakfast.', 'What exercise does she do early in the day?'],
  ['Ada is vegetarian and never eats meat.', 'Does she avoid beef and chicken?'],
  ["Ada's favourite book is Pride and Prejudice.", 'Which novel does she like best?'],
  ['Ada is learning Japanese on weekends.', 'Which foreign language is she studying?'],
  ['Ada drives an old red Volvo.', 'What car does she have?'],
  ["Ada's birthday is on the fourteenth of March.", 'When should we celebrate her getting a year older?'],
  ['Ada hates loud parties.', 'Does she enjoy noisy celebrations?'],
  ['Ada moved to Berlin last year.', 'Which German city did she relocate to recently?'],
  ['Ada is married to a carpenter called Tom.', 'What does her husband do for a living?'],
  ['Ada suffers from migraines when she sleeps too little.', 'What happens to her head after a short night?'],
  ['Ada grows tomatoes on her balcony.', 'Which vegetables does she cultivate at home?'],
  ['Ada supports Hibernian football club.', 'Which soccer team does she cheer for?'],
  ['Ada is saving money for a trip to Iceland.', 'Where does she want to travel next?'],
  ['Ada studied chemistry at university.', 'What was her degree subject?'],
  ['Ada dislikes coriander in her food.', 'Which herb should I leave out when cooking for her?'],
  ['Ada volunteers at an animal shelter on Saturdays.', 'What unpaid work does she do at the weekend?'],
  ['Ada wears glasses for reading.', 'Does she need spectacles to see small print?'],
  ["Ada's grandmother taught her to knit.", 'Who showed her how to make woollen scarves?'],
  ['Ada enjoys watching old black-and-white films.', 'What kind of movies does she like?'],
  ['Ada is lactose intolerant.', 'Can she have milk?'],
  ['Ada takes the train to work.', 'How does she commute to her job?'],
  ['Ada speaks fluent Spanish.', 'Which other tongue can she talk in easily?'],
  ["Ada's favourite colour is purple.", 'Which shade does she like most?'],
  ['Ada broke her arm while skiing in 2019.', 'Has she ever been injured on the slopes?'],
  ['Ada meditates for ten minutes every evening.', 'How does she relax before bed?'],
  ['Ada collects vintage postcards.', 'What does she like to hunt for at flea markets?'],
  ['Ada is terrified of spiders.', 'Which creepy crawlies scare her?'],
  ['Ada bakes sourdough bread every Sunday.', 'What does she make in the oven at the weekend?'],
  ["Ada's son Leo is seven years old.", 'How old is her boy?'],
  ['Ada prefers the beach to the mountains for holidays.', 'Where would she rather spend a vacation, seaside or hills?'],
  ['Ada has a fear of deep water and cannot swim.', 'Is she comfortable in a pool?'],
  ['Ada works night shifts twice a week.', 'When is she busy after dark?'],
];

const NAMES = ['Ben', 'Chloe', 'Daniel', 'Emma', 'Felix', 'Grace', 'Hugo', 'Isla', 'Jack', 'Kira', 'Liam', 'Mia', 'Noah', 'Olga', 'Paul'];
const FACTS = [
  'repaired the garden fence on Tuesday.',
  'is reading a thriller about a bank robbery.',
  'bought a new laptop for programming.',
  'thinks the bus timetable is confusing.',
  'ordered a pepperoni pizza for dinner.',
  'forgot the password of the office printer.',
  'wants to repaint the kitchen walls yellow.',
  'watched the cup final with friends at the pub.',
  'keeps a collection of rare stamps.',
  'is worried about the rising electricity bill.',
];
const DISTRACTORS = NAMES.flatMap((n) => FACTS.map((f) => `${n} ${f}`));
const DOCS = [...PAIRS.map(([m]) => m), ...DISTRACTORS];
const K = 5;

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const words = (t: string) => t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Okapi BM25 (k1 1.2, b 0.75) of every document for `query`, document indices best first. */
function bm25Ranking(query: string): number[] {
  const docs = DOCS.map(words);
  const avg = docs.reduce((s, d) => s + d.length, 0) / docs.length;
  const df = new Map<string, number>();
  for (const d of docs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const score = docs.map((d) => {
    let s = 0;
    for (const q of new Set(words(query))) {
      const tf = d.filter((w) => w === q).length;
      if (!tf) continue;
      const idf = Math.log(1 + (docs.length - df.get(q)! + 0.5) / (df.get(q)! + 0.5));
      s += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * d.length) / avg));
    }
    return s;
  });
  return score.map((s, i) => [s, i] as const).filter(([s]) => s > 0).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
}

async function rankings(e: Embedder): Promise<number[][]> {
  const docs = await e.embed(DOCS);
  const queries = await e.embed(PAIRS.map(([, q]) => q));
  return queries.map((q) => docs.map((d, i) => [cosine(q, d), i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i));
}

function recallAt(ranks: number[][]): number {
  return ranks.filter((r, target) => r.slice(0, K).includes(target)).length / ranks.length;
}

function fused(vector: number[][]): number[][] {
  return vector.map((v, qi) =>
    reciprocalRankFusion([
      { ids: v.map(String), weight: 1 },
      { ids: bm25Ranking(PAIRS[qi]![1]).map(String), weight: 1 },
    ]).map((h) => Number(h.id)),
  );
}

const t0 = performance.now();
const minilm = await MiniLmEmbedder.load();
const loadMs = performance.now() - t0;
const model = await rankings(minilm);
const hashing = await rankings(new HashingEmbedder());
const bm25 = PAIRS.map(([, q]) => bm25Ranking(q));
const rows: Array<[string, number]> = [
  ['all-MiniLM-L6-v2 (vector)', recallAt(model)],
  ['all-MiniLM-L6-v2 + BM25 (RRF)', recallAt(fused(model))],
  ['hashing embedder (vector)', recallAt(hashing)],
  ['hashing embedder + BM25 (RRF)', recallAt(fused(hashing))],
  ['BM25 alone', recallAt(bm25)],
];
console.log(`recall@${K}: ${PAIRS.length} paraphrase queries over ${DOCS.length} memories (${DISTRACTORS.length} distractors); model loaded in ${loadMs.toFixed(0)} ms`);
console.log('| configuration | recall@5 |\n| --- | --- |');
for (const [name, r] of rows) console.log(`| ${name} | ${r.toFixed(3)} |`);
const missed = model.map((r, t) => (r.slice(0, K).includes(t) ? null : `  missed: ${PAIRS[t]![1]} -> ${DOCS[r[0]!]}`)).filter(Boolean);
if (missed.length) console.log(missed.join('\n'));
