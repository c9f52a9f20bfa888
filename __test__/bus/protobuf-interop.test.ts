/**
 * The protobuf envelope against Google's Python protobuf runtime, which upstream AICO's modules
 * use: frames the reference encodes (from the same `proto/aico_core_envelope.proto`, compiled by
 * grpcio-tools' protoc) decode here, and frames encoded here decode there, field for field.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AnyPayload, createEnvelope, decodeProtobufEnvelope, encodeProtobufEnvelope, InProcessBus, JSON_VALUE_TYPE_URL, type BusEnvelope } from '../../src/bus/index.js';
import { AicoDataError } from '../../src/errors.js';
import { PROTO_REF_PYTHON, PROTO_REF_SKIP } from '../helpers/bus-tools.js';
import { waitFor } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/aico_envelope_ref.py', import.meta.url));

/** Runs the reference on JSON lines and returns its JSON lines. */
function reference(mode: 'encode' | 'decode', items: unknown[]): Record<string, unknown>[] {
  const r = spawnSync(PROTO_REF_PYTHON!, [SCRIPT, `${ROOT}proto`, mode], { input: items.map((i) => JSON.stringify(i)).join('\n') + '\n', encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Payloads that exercise every google.protobuf.Value kind, nesting and non-ASCII text.
const PAYLOADS: unknown[] = [
  { id: 'm1', n: 2, ok: true, none: null, list: [1, 2.5, 'x', [], {}], nested: { deep: { s: 'grüße, 你好, 🙂' } } },
  'a string',
  42,
  -0.125,
  null,
  false,
  [],
];

const T = '2026-01-02T03:04:05.678Z';
const id = (i: number) => `0b5e3c1e-1f5c-4a47-9b1f-3a0c5d2e7f${String(i).padStart(2, '0')}`;

describe.skipIf(!PROTO_REF_PYTHON)(`protobuf envelope vs the Python reference encoder${PROTO_REF_SKIP}`, () => {
  it('decodes the frames the reference encodes, with every field and payload kind', () => {
    const specs = PAYLOADS.map((payload, i) => ({ topic: 'memory/store/request/v1', message_id: id(i), timestamp: T, source: 'py-core', attributes: { correlation_id: `c${i}`, reply_to: 'memory/store/response/v1' }, payload }));
    const frames = reference('encode', specs);
    expect(frames).toHaveLength(PAYLOADS.length);
    frames.forEach((f, i) => {
      const e = decodeProtobufEnvelope(f.topic as string, Buffer.from(f.frame as string, 'base64'));
      expect(e).toEqual({
        metadata: { message_id: id(i), timestamp: T, source: 'py-core', message_type: 'memory/store/request/v1', version: '1.0', attributes: { correlation_id: `c${i}`, reply_to: 'memory/store/response/v1' } },
        payload: PAYLOADS[i],
      });
    });
  });

  it('passes a payload type it does not know through as an AnyPayload, byte for byte', () => {
    const [f] = reference('encode', [{ topic: 'conversation/message/created/v1', message_id: id(0), timestamp: T, source: 'py', attributes: {}, string_value: 'hello' }]);
    const e = decodeProtobufEnvelope('conversation/message/created/v1', Buffer.from(f!.frame as string, 'base64'));
    expect(e.payload).toBeInstanceOf(AnyPayload);
    const p = e.payload as AnyPayload;
    expect(p.typeUrl).toBe('type.googleapis.com/google.protobuf.StringValue');
    expect(Buffer.from(p.value)).toEqual(Buffer.from([0x0a, 5, ...Buffer.from('hello')])); // field 1, length 5
    // Re-encoded here, the reference unpacks the same message again.
    const [back] = reference('decode', [{ frame: encodeProtobufEnvelope(e).toString('base64') }]);
    expect(back!.type_url).toBe('type.googleapis.com/google.protobuf.StringValue');
    expect(Buffer.from(back!.payload as string, 'base64')).toEqual(Buffer.from(p.value));
  });

  it('encodes frames the reference decodes into the same fields and JSON payloads', () => {
    const envelopes: BusEnvelope[] = PAYLOADS.map((payload, i) =>
      createEnvelope('memory/retrieve/response/v1', payload, { source: 'aico-data', correlationId: `c${i}`, attributes: { status: 'ok' } }),
    );
    const decoded = reference('decode', envelopes.map((e) => ({ frame: encodeProtobufEnvelope(e).toString('base64') })));
    decoded.forEach((d, i) => {
      const m = envelopes[i]!.metadata;
      expect(d.payload_case).toBe('any_payload');
      expect(d.type_url).toBe(JSON_VALUE_TYPE_URL);
      expect(d.metadata).toEqual({ message_id: m.message_id, timestamp: m.timestamp, source: 'aico-data', message_type: 'memory/retrieve/response/v1', version: '1.0', attributes: { correlation_id: `c${i}`, status: 'ok' } });
      expect(d.payload).toEqual(PAYLOADS[i]);
    });
  });

  it("delivers a reference frame through a bus whose codec is protobuf, and drops one of another topic or version", async () => {
    const bus = new InProcessBus({ codec: 'protobuf', logger: { warn: () => undefined } });
    const got: BusEnvelope[] = [];
    await bus.subscribe('memory/', (e) => void got.push(e));
    const [good, wrongVersion] = reference('encode', [
      { topic: 'memory/store/request/v1', message_id: id(1), timestamp: T, source: 'py', attributes: {}, payload: { q: 1 } },
      { topic: 'memory/store/request/v1', message_id: id(2), timestamp: T, source: 'py', attributes: {}, payload: 1, version: '2.0' },
    ]);
    bus.injectFrames('memory/store/request/v1', Buffer.from(wrongVersion!.frame as string, 'base64'));
    bus.injectFrames('memory/other/request/v1', Buffer.from(good!.frame as string, 'base64')); // message_type differs from the topic frame
    bus.injectFrames('memory/store/request/v1', Buffer.from(good!.frame as string, 'base64'));
    await waitFor(() => got.length === 1 && bus.stats().rejected === 2);
    expect(got[0]!.payload).toEqual({ q: 1 });
    expect(got[0]!.metadata.source).toBe('py');
    // A fork shares the hub and so the codec: what it publishes the protobuf bus reads.
    const fork = bus.fork('forked');
    expect(fork.codec).toBe('protobuf');
    await fork.publish('memory/store/request/v1', { from: 'fork' });
    await waitFor(() => got.length === 2);
    expect(got[1]!.payload).toEqual({ from: 'fork' });
    await fork.close();
    await bus.close();
  });
});

describe('protobuf envelope: bad input', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(AicoDataError);
      return (e as AicoDataError).code;
    }
    return 'no error';
  };
  it('refuses bytes that are no AicoMessage and envelopes it cannot carry, with typed errors', () => {
    const json = Buffer.from(JSON.stringify(createEnvelope('a/b/c/v1', 1, { source: 's' })));
    expect(code(() => decodeProtobufEnvelope('a/b/c/v1', json))).toBe('MALFORMED_MESSAGE');
    expect(code(() => decodeProtobufEnvelope('a/b/c/v1', Buffer.alloc(0)))).toBe('MALFORMED_MESSAGE'); // no metadata
    expect(code(() => decodeProtobufEnvelope('a/b/c/v1', Buffer.from([0xff, 0xff, 0xff])))).toBe('MALFORMED_MESSAGE');
    expect(code(() => encodeProtobufEnvelope(createEnvelope('a/b/c/v1', { n: 1n }, { source: 's' })))).toBe('INVALID_ARGUMENT');
    expect(code(() => new AnyPayload('no type url', new Uint8Array()))).toBe('INVALID_ARGUMENT');
    expect(code(() => new InProcessBus({ codec: 'xml' as never }))).toBe('INVALID_ARGUMENT');
  });
});
