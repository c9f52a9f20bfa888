/** The progress reporter's two forms: a redrawn bar on a terminal, plain lines elsewhere. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => text };
}

describe('progress', () => {
  it('on a terminal redraws one line with a bar, count, rate and ETA, then a final line', () => {
    const s = sink();
    const p = createProgress({ label: 'ingest', total: 1000, unit: 'messages', stream: s.stream, tty: true });
    p.update(500);
    p.done();
    const t = s.text();
    expect(t).toMatch(/\r\x1b\[2Kingest \[#{12}-{12}\] {2}50% 500\/1,000 messages, [\d,]+ messages\/s, ETA /);
    expect(t).toMatch(/\r\x1b\[2Kingest: 500 messages in .* \([\d,]+ messages\/s\)\n$/);
    expect(t.split('\n').length).toBe(2);
  });

  it('elsewhere prints one plain line per 10% and no control characters', () => {
    const s = sink();
    const p = createProgress({ label: 'ingest', total: 100, unit: 'rows', stream: s.stream, tty: false });
    for (let i = 1; i <= 100; i++) p.update(i);
    p.done('done');
    const lines = s.text().trimEnd().split('\n');
    expect(lines.slice(0, -1).map((l) => l.split('%')[0])).toEqual(['ingest: 10', 'ingest: 20', 'ingest: 30', 'ingest: 40', 'ingest: 50', 'ingest: 60', 'ingest: 70', 'ingest: 80', 'ingest: 90']);
    expect(lines.at(-1)).toMatch(/^ingest: 100 rows in .*; done$/);
    expect(s.text()).not.toMatch(/[\r\x1b]/);
  });
});
