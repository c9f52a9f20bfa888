/**
 * Chunking of changesets larger than a relay's max_payload (`ChunkAssembler`): sets put
 * together whatever the interleaving, redelivered chunks ignored, a chunk that does not fit its
 * set or a set whose bytes do not hash to what it declared dropped and counted, memory bounded.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkAssembler, chunkChangeset } from '../../src/sync/transports/jetstream.js';
import { MAX_CHANGESET_BYTES } from '../../src/sync/index.js';

const AICOSYN = Buffer.from('AICOSYN1');
const changeset = (n: number) => Buffer.concat([AICOSYN, randomBytes(n)]);

describe('relay chunks', () => {
  it('splits to fit max_payload and puts interleaved, redelivered chunks back together once', () => {
    const [x, y] = [changeset(50_000), changeset(30_000)];
    const cx = chunkChangeset(x, 16 * 1024);
    const cy = chunkChangeset(y, 16 * 1024);
    expect(cx.length).toBeGreaterThan(3);
    expect(cx.every((c) => c.length <= 16 * 1024 - 1024 && ChunkAssembler.isChunk(c))).toBe(true);
    expect(ChunkAssembler.isChunk(x)).toBe(false);
    const asm = new ChunkAssembler();
    const out: Buffer[] = [];
    // Reversed, interleaved with another sender's set, and every chunk of x delivered twice.
    const order = [...cx.map((c) => ['p', c] as const).reverse(), ...cx.map((c) => ['p', c] as const), ...cy.map((c) => ['q', c] as const)];
    order.sort((a, b) => (a[0] === b[0] ? 0 : a[1].length % 2 ? -1 : 1));
    for (const [from, c] of order) {
      const whole = asm.add(from, c);
      if (whole) out.push(whole);
    }
    expect(out.map((b) => b.length).sort()).toEqual([x.length, y.length].sort());
    expect(out.find((b) => b.length === x.length)!.equals(x)).toBe(true);
    expect(out.find((b) => b.length === y.length)!.equals(y)).toBe(true);
    expect(asm.rejected).toBe(0);
    expect(asm.pendingBytes).toBe(0);
  });

  it('drops a set whose bytes do not hash to what it declared, and chunks that contradict their set', () => {
    const chunks = chunkChangeset(changeset(40_000), 16 * 1024);
    const asm = new ChunkAssembler();
    const tampered = Buffer.from(chunks[1]!);
    tampered[tampered.length - 1]! ^= 1;
    for (const c of [chunks[0]!, tampered, ...chunks.slice(2)]) expect(asm.add('p', c)).toBeUndefined();
    expect(asm.rejected).toBe(1);
    // Index past the count, a count of 1, a count that changes within a set.
    const bad = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(chunks[0]!);
      edit(b);
      return asm.add('p', b);
    };
    expect(bad((b) => b.writeUInt32BE(99, 40))).toBeUndefined();
    expect(bad((b) => b.writeUInt32BE(1, 44))).toBeUndefined();
    expect(asm.add('r', chunks[0]!)).toBeUndefined();
    expect(bad((b) => (b.writeUInt32BE(1, 40), b.writeUInt32BE(chunks.length + 1, 44)))).toBeUndefined();
    expect(asm.rejected).toBe(3);
  });

  it('holds at most twice the largest changeset in unfinished sets, dropping the oldest', () => {
    const asm = new ChunkAssembler();
    const room = 1024 * 1024;
    // Many unfinished sets of 2 MiB chunks each: only the first chunk of each arrives.
    for (let i = 0; i < 80; i++) asm.add('p', chunkChangeset(changeset(4 * room), room + 2048)[0]!);
    expect(asm.pendingBytes).toBeLessThanOrEqual(2 * MAX_CHANGESET_BYTES);
    expect(asm.pendingBytes).toBeGreaterThan(MAX_CHANGESET_BYTES);
  });
});
