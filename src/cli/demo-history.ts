/**
 * A deterministic, plausible conversation history for the demo: conversations of varying
 * length, more of them in the evening, user messages followed by assistant replies, a
 * sentiment that drifts over the weeks (better on weekends, worse on Mondays) and response
 * times that grow with the reply length and have a long tail. Same seed, same history
 * (timestamps are relative to the anchor day).
 */

import { seededRandom } from '../util/seeded-random.js';

/** One generated message (the demo wraps it in `createMessage`). */
export interface DemoMessage {
  conversation: number;
  role: 'user' | 'assistant';
  content: string;
  at: Date;
  sentiment: number;
  responseTimeMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/** One generated conversation. */
export interface DemoConversation {
  index: number;
  title: string;
  createdAt: Date;
  messages: DemoMessage[];
}

/** Deterministic pseudo-random numbers in [0, 1). */
export const rng = seededRandom;

const TOPICS: Record<string, { user: string[]; assistant: string[] }> = {
  music: {
    user: ['I listened to that old jazz record again tonight', 'Can you suggest something calm to play while I work late?', 'The cello concert was better than I expected'],
    assistant: ['Jazz late at night suits you; want a playlist of quieter trios?', 'Try some slow piano pieces, they helped last time you worked late', 'That sounds lovely, what did they play?'],
  },
  work: {
    user: ['The deadline moved again and I am exhausted', 'My presentation went well today', 'I could not focus at all this afternoon'],
    assistant: ['That is frustrating. Shall we plan the next two days together?', 'Well done! What part do you think landed best?', 'Some afternoons are like that; a short walk sometimes resets focus'],
  },
  family: {
    user: ['Mara called from Lisbon, she is visiting next month', 'The kids were wonderful at dinner tonight', 'I argued with my brother again'],
    assistant: ['How nice that your sister is coming! Do you want help planning her visit?', 'It sounds like a warm evening', 'That sounds hard. What was it about this time?'],
  },
  travel: {
    user: ['I booked the train to the coast for the weekend', 'I always sleep badly before a trip', 'The flight was delayed by three hours'],
    assistant: ['The coast in autumn is beautiful; pack something warm', 'Last time a short evening routine helped before travel', 'Three hours is long; did you manage to rest?'],
  },
  cooking: {
    user: ['I tried the spicy lentil soup recipe', 'Baking bread on Sunday morning is my favourite thing', 'I burnt the rice, again'],
    assistant: ['How spicy did it turn out?', 'Sunday bread sounds like a lovely ritual', 'It happens to everyone; lower heat and a lid usually help'],
  },
  health: {
    user: ['I went running along the river this morning', 'My back hurts after sitting all day', 'Yoga class was exhausting but good'],
    assistant: ['A river run is a great start to the day', 'Maybe set a reminder to stand up every hour?', 'Good tiredness is the best kind'],
  },
};
const TOPIC_NAMES = Object.keys(TOPICS);

/** Hour of day weighted toward mornings and evenings. */
function hourOfDay(r: () => number): number {
  const x = r();
  if (x < 0.15) return 7 + Math.floor(r() * 2);
  if (x < 0.35) return 12 + Math.floor(r() * 2);
  if (x < 0.85) return 18 + Math.floor(r() * 5);
  return 9 + Math.floor(r() * 9);
}

/**
 * Generates conversations (and their messages, in time order) until exactly `minMessages`
 * messages exist, spread over the `days` days before `anchor` (the last conversation is cut
 * short where the count is reached).
 */
export function generateHistory(options: { minMessages: number; days: number; anchor: Date; seed?: number }): DemoConversation[] {
  const r = rng(options.seed ?? 42);
  const { minMessages, days } = options;
  const start = options.anchor.getTime() - days * 86_400_000;
  // Conversations per day so that, at ~23 messages each on average, the days fall a little short
  // of the target; the last day then gets more conversations until the count is exact.
  const perDay = (minMessages / days / 23) * 0.95;
  const conversations: DemoConversation[] = [];
  let total = 0;
  for (let day = 0; day < days; day++) {
    const dayStart = start + day * 86_400_000;
    const weekday = new Date(dayStart).getUTCDay();
    // A mood that drifts over the weeks, plus a weekly rhythm.
    const mood = 0.25 * Math.sin((day / days) * Math.PI * 3) + (weekday === 0 || weekday === 6 ? 0.2 : weekday === 1 ? -0.2 : 0);
    const count = Math.max(1, Math.round(perDay * (0.6 + r() * 0.8)));
    for (let c = 0; c < count; c++) {
      const topic = TOPIC_NAMES[Math.floor(r() * TOPIC_NAMES.length)]!;
      const lines = TOPICS[topic]!;
      const turns = 2 + Math.floor(r() ** 2 * 30); // mostly short, some long
      let at = dayStart + hourOfDay(r) * 3_600_000 + Math.floor(r() * 3_600_000);
      const conv: DemoConversation = { index: conversations.length, title: `${topic} on day ${day + 1}`, createdAt: new Date(at), messages: [] };
      for (let t = 0; t < turns; t++) {
        const sentiment = Math.max(-1, Math.min(1, mood + (r() - 0.5) * 0.9));
        const user = lines.user[Math.floor(r() * lines.user.length)]!;
        conv.messages.push({ conversation: conv.index, role: 'user', content: user, at: new Date(at), sentiment: round3(sentiment), responseTimeMs: null, promptTokens: null, completionTokens: null });
        if (total + conv.messages.length >= minMessages) break;
        const reply = lines.assistant[Math.floor(r() * lines.assistant.length)]!;
        const completion = 20 + Math.floor(r() * 180);
        // Longer replies take longer; one in twenty hits a slow path (cold model, long context).
        const responseTimeMs = Math.round(250 + completion * 6 + r() * 400 + (r() < 0.05 ? 2000 + r() * 4000 : 0));
        at += responseTimeMs;
        conv.messages.push({
          conversation: conv.index,
          role: 'assistant',
          content: reply,
          at: new Date(at),
          sentiment: round3(Math.max(-1, Math.min(1, sentiment * 0.5 + 0.3))),
          responseTimeMs,
          promptTokens: 40 + t * 30,
          completionTokens: completion,
        });
        at += 20_000 + Math.floor(r() * 120_000);
        if (total + conv.messages.length >= minMessages) break;
      }
      conversations.push(conv);
      total += conv.messages.length;
      if (total >= minMessages) return conversations;
    }
    // The last days may need more to reach the target exactly.
    if (day === days - 1 && total < minMessages) day--;
  }
  return conversations;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
