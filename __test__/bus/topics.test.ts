import { describe, expect, it } from 'vitest';
import { compilePattern, connectZmqBus, createEnvelope, decodeEnvelope, encodeEnvelope, generateBusKeyPair, parseTopic, responseTopicOf, startZmqBroker, topic } from '../../src/bus/index.js';
import { AicoDataError } from '../../src/errors.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof AicoDataError ? e.code : 'not-an-AicoDataError';
  }
  return undefined;
}

describe('topics', () => {
  it('builds and parses <domain>/<object>/<action>/v<n>', () => {
    expect(topic('memory', 'store', 'request')).toBe('memory/store/request/v1');
    expect(parseTopic('data/memory/created/v2')).toEqual({ domain: 'data', object: 'memory', action: 'created', version: 2 });
    expect(parseTopic('conversation/message/store/request/v1')).toEqual({ domain: 'conversation', object: 'message', action: 'store/request', version: 1 });
    expect(responseTopicOf('conversation/message/store/request/v1')).toBe('conversation/message/store/response/v1');
    expect(responseTopicOf('memory/store/request/v1')).toBe('memory/store/response/v1');
    expect(code(() => parseTopic('a/b/v1'))).toBe('INVALID_ARGUMENT');
    expect(code(() => topic('Memory', 'store', 'request'))).toBe('INVALID_ARGUMENT');
    expect(code(() => parseTopic('memory/store/request/1'))).toBe('INVALID_ARGUMENT');
    expect(code(() => responseTopicOf('memory/store/response/v1'))).toBe('INVALID_ARGUMENT');
  });

  it('matches exact, prefix, one-segment and rest patterns', () => {
    const m = (p: string, t: string) => compilePattern(p).matches(t);
    expect(m('a/b/c/v1', 'a/b/c/v1')).toBe(true);
    expect(m('a/b/c/v1', 'a/b/c/v10')).toBe(false);
    expect(m('a/b/', 'a/b/c/v1')).toBe(true);
    expect(m('a/b/', 'a/bc/d/v1')).toBe(false);
    expect(m('a/*/c/v1', 'a/x/c/v1')).toBe(true);
    expect(m('a/*/c/v1', 'a/x/y/c/v1')).toBe(false);
    expect(m('a/**', 'a/x/y/z')).toBe(true);
    expect(m('a/**', 'b/x')).toBe(false);
    expect(m('**', 'anything/at/all/v1')).toBe(true);
    expect(compilePattern('data/*/created/v1').prefix).toBe('data/');
    expect(compilePattern('data/memory/').prefix).toBe('data/memory/');
    expect(compilePattern('*/x/y/v1').prefix).toBe('');
    expect(code(() => compilePattern('a/**/b'))).toBe('INVALID_ARGUMENT');
    expect(code(() => compilePattern('A/b'))).toBe('INVALID_ARGUMENT');
  });
});

describe('envelope', () => {
  it('round-trips through its JSON encoding', () => {
    const e = createEnvelope('memory/store/request/v1', { a: [1, 'x'] }, { source: 'me', correlationId: 'c', replyTo: 'memory/store/response/v1' });
    const back = decodeEnvelope('memory/store/request/v1', encodeEnvelope(e));
    expect(back).toEqual(e);
    expect(back.metadata.attributes).toEqual({ correlation_id: 'c', reply_to: 'memory/store/response/v1' });
  });

  it('rejects what is not a valid envelope of the topic frame with MALFORMED_MESSAGE', () => {
    const e = createEnvelope('memory/store/request/v1', 1, { source: 'me' });
    const bytes = encodeEnvelope(e);
    const bad = (o: unknown) => Buffer.from(JSON.stringify(o));
    expect(code(() => decodeEnvelope('memory/store/other/v1', bytes))).toBe('MALFORMED_MESSAGE');
    expect(code(() => decodeEnvelope('memory/store/request/v1', Buffer.from('nope')))).toBe('MALFORMED_MESSAGE');
    expect(code(() => decodeEnvelope('memory/store/request/v1', bad({ metadata: e.metadata })))).toBe('MALFORMED_MESSAGE');
    expect(code(() => decodeEnvelope('memory/store/request/v1', bad({ ...e, metadata: { ...e.metadata, version: '2.0' } })))).toBe('MALFORMED_MESSAGE');
    expect(code(() => decodeEnvelope('memory/store/request/v1', bad({ ...e, metadata: { ...e.metadata, attributes: { n: 1 } } })))).toBe('MALFORMED_MESSAGE');
    expect(code(() => decodeEnvelope('memory/store/request/v1', bad([1])))).toBe('MALFORMED_MESSAGE');
  });
});

describe('ZeroMQ connection errors', () => {
  it('fails with TIMEOUT when no broker answers, and with INVALID_ARGUMENT for a bad endpoint', async () => {
    const broker = await startZmqBroker({ insecurePlaintext: true });
    const port = Number(broker.publishEndpoint.split(':').pop());
    await broker.stop(); // a port that was just free again: nothing listens there now
    await expect(
      connectZmqBus({ publishEndpoint: `tcp://127.0.0.1:${port}`, subscribeEndpoint: `tcp://127.0.0.1:${port}`, connectTimeoutMs: 300, insecurePlaintext: true }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(connectZmqBus({ publishEndpoint: 'http://x', subscribeEndpoint: 'tcp://127.0.0.1:1', insecurePlaintext: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(startZmqBroker({ xsub: 70000, insecurePlaintext: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses to run without authentication unless insecurePlaintext is said explicitly', async () => {
    await expect(startZmqBroker()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'allowedClients' } });
    const broker = await startZmqBroker({ allowedClients: [] });
    try {
      await expect(connectZmqBus({ ...broker.endpoints, serverPublicKey: undefined })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'serverPublicKey' } });
      await expect(connectZmqBus({ ...broker.endpoints, publicKey: 'too short', secretKey: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'publicKey' } });
      const { requestEndpoint: _r, ...noRequestPath } = broker.endpoints;
      const keys = generateBusKeyPair();
      await expect(connectZmqBus({ ...noRequestPath, ...keys })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'requestEndpoint' } });
    } finally {
      await broker.stop();
    }
  });
});
